"""A flash-sale spike through the local edge: 20,000 views of a drop's landing page (its bare URL, as a
link or QR opens it) from 5,000 visitors over 60 seconds, on loopback.

The edge is `make run`'s (``devtools/local_edge.py``: the CloudFront Function under node and the same
cache rules) in its own process, in front of the origin (`chalice local`) in another, on the embedded
DynamoDB in a third. Each visitor opens the page 4 times, 3 seconds apart, arriving over the first
48 seconds; they keep their cookies, come from two markets (70 % France), a third of them stand
near the Paris pop-up, and 2 % arrive by a gold-tier campaign link (their first view is their own,
uncached). While they browse, a delivery adds one piece of the first size every half second; each
view's displayed count is checked against when it stopped being true.

Two drops: a typical flash sale (one price test of two cells and a gold-tier rule), and the demo
drop (tier, cohort, near-the-pop-up and first-visit rules, two experiments over five cells), whose
every combination the cache must key apart. Reported: origin requests per 1,000 views, the view
time at the edge (the visitor's, p50/p99) and at the origin (the edge's request to it), how stale
the displayed stock was, and how the views were served (hit, miss).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.setup import BENCH_SLUG, seeded_dynamodb
from bench.stats import percentile
from chalicelib.core import records
from chalicelib.shop.page import chip_units
from devtools.live import free_port
from devtools.run import wait_until_up

VIEWS_PER_VISITOR = 4
VIEW_GAP_SECONDS = 3.0
RESTOCK_EVERY_SECONDS = 0.5
WORKERS = 48
PARIS = {
    "cloudfront-viewer-latitude": "48.8630",
    "cloudfront-viewer-longitude": "2.3610",
    "cloudfront-viewer-city": "Paris",
}
FRANCE = {"cloudfront-viewer-country": "FR", "accept-language": "fr-FR,fr;q=0.9,en;q=0.8"}
AMERICA = {"cloudfront-viewer-country": "US", "accept-language": "en-US,en;q=0.9"}
CHIP = re.compile(r'data-at="([^"]*)"><input type="radio" name="size" value="([^"]+)"')


def shown_units(page: str, tracked: tuple[str, str]) -> int | None:
    """The units a page shows for (SKU, size): its chip's ``data-at`` (units per pop-up), under the
    card of that SKU; None if the page has no such chip."""
    sku, size = tracked
    for card in page.split('<li class="card" ')[1:]:
        if card.startswith(f'data-sku="{sku}"'):
            at = next((at for at, chip in CHIP.findall(card) if chip == size), None)
            return None if at is None else sum(chip_units(at).values())
    return None


@dataclass
class Visitor:
    headers: dict[str, str]
    campaign: str | None
    cookies: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # two of their views may overlap


@dataclass(frozen=True)
class View:
    due: float
    started: float
    finished: float
    status: int
    cache: str
    shown: int | None  # the tracked size's count on the page


def flash_sale_policy() -> None:
    """The bench drop priced as a typical flash sale: one price test of two cells, a gold-tier rule."""
    from chalicelib import wiring
    from chalicelib.pricing.policy import PricingPolicy

    store = wiring.catalog_store()
    policy = store.pricing_policy(BENCH_SLUG)
    assert policy is not None
    raw = json.loads(records.dump_json(policy))
    raw["segment_rules"] = [rule for rule in raw["segment_rules"] if rule["segment"] == "tier:gold"]
    raw["experiments"] = [{**e, "group": None} for e in raw["experiments"] if e["id"] == "launch-depth"]
    store.put_pricing_policy(BENCH_SLUG, records.validate(PricingPolicy, {**raw, "version": policy.version + 1}))


def start(arguments: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_edge", *arguments, "--port", str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process, "local edge")
    return process


def visitors_for(count: int, campaign: str, rng: random.Random) -> list[Visitor]:
    crowd = []
    for _ in range(count):
        headers = {**(FRANCE if rng.random() < 0.7 else AMERICA), **(PARIS if rng.random() < 1 / 3 else {})}
        crowd.append(Visitor(headers, campaign if rng.random() < 0.02 else None))
    return crowd


def view(
    connection: http.client.HTTPConnection, visitor: Visitor, path: str, tracked: tuple[str, str]
) -> tuple[int, str, int | None]:
    with visitor.lock:
        cookie = "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())
    connection.request("GET", path, headers={**visitor.headers, **({"cookie": cookie} if cookie else {})})
    answer = connection.getresponse()
    body = answer.read().decode()
    with visitor.lock:
        for name, value in answer.getheaders():
            if name.lower() == "set-cookie":
                key, _, kept = value.partition(";")[0].partition("=")
                visitor.cookies[key.strip()] = kept
    shown = shown_units(body, tracked)
    return answer.status, answer.getheader("X-Cache") or "", shown


def spike(
    edge_port: int, slug: str, crowd: list[Visitor], seconds: float, tracked: tuple[str, str], began: float
) -> list[View]:
    """Every visitor's views at their moments (from ``began``), by a bounded pool of clients (each a
    keep-alive connection)."""
    arrivals = seconds - (VIEWS_PER_VISITOR - 1) * VIEW_GAP_SECONDS
    rng = random.Random(7)
    plan = sorted(
        (arrival + n * VIEW_GAP_SECONDS, index, n)
        for index, arrival in enumerate(rng.uniform(0, arrivals) for _ in crowd)
        for n in range(VIEWS_PER_VISITOR)
    )
    views: list[View] = []
    cursor = iter(plan)
    take = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", edge_port, timeout=60)
        while True:
            with take:
                step = next(cursor, None)
            if step is None:
                break
            due, index, number = step
            wait = began + due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)  # pacing to the schedule, not waiting on a result
            visitor = crowd[index]
            path = f"/drops/{slug}?c={visitor.campaign}" if number == 0 and visitor.campaign else f"/drops/{slug}"
            started = time.perf_counter()
            try:
                status, cache, shown = view(connection, visitor, path, tracked)
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", edge_port, timeout=60)
                status, cache, shown = 0, "", None
            finished = time.perf_counter()
            views.append(View(due, started - began, finished - began, status, cache, shown))
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return views


def deliveries(slug: str, tracked: tuple[str, str], location: str, began: float, stop: threading.Event) -> list[float]:
    """A piece of the tracked size added every half second; when each was written (from the spike's start)."""
    from chalicelib import wiring
    from chalicelib.core.audit import AuditEntry
    from chalicelib.stock.ports import StockRef

    ref = StockRef(slug, wiring.catalog().drop(slug).drop.generation, *tracked, location)
    written: list[float] = []
    while not stop.wait(RESTOCK_EVERY_SECONDS):
        at = time.perf_counter() - began
        wiring.stock().restock(
            ref,
            1,
            lambda before, after: AuditEntry(
                slug, "bench", "restock", f"{before} → {after}", datetime.now(UTC).isoformat()
            ),
        )
        written.append(at)
    return written


def staleness(views: list[View], base: int, written: list[float]) -> list[float]:
    """For each view, how long the count it showed had been untrue (0 when it was current): a count
    of base + k stopped being true when the k+1-th delivery was written."""
    ages = []
    for seen in views:
        if seen.shown is None:
            continue
        delivered = seen.shown - base
        ended = written[delivered] if delivered < len(written) else None
        ages.append(max(0.0, seen.finished - ended) if ended is not None and ended < seen.finished else 0.0)
    return ages


def measure(slug: str, visitors: int, seconds: float, flash_sale: bool) -> dict[str, Any]:
    from chalicelib import wiring
    from chalicelib.core.tokens import signing_keys
    from chalicelib.edge.segment import edge_keys
    from chalicelib.edge.sync import sync_edge
    from chalicelib.shop.visitors import campaign_link
    from devtools.process import forget_process_state

    with tempfile.TemporaryDirectory() as scratch, seeded_dynamodb():
        os.environ["DROPFRONT_EDGE_STORE_FILE"] = str(Path(scratch) / "edge-store.json")
        os.environ["DROPFRONT_STOCK_CACHE_SECONDS"] = "1"
        forget_process_state()
        if flash_sale:
            flash_sale_policy()
        store = wiring.edge_store()
        assert store is not None
        sync_edge(store, edge_keys(signing_keys()), wiring.catalog(), datetime.now(UTC))
        origin_port, edge_port = free_port(), free_port()
        origin = start(["--origin-only"], origin_port)
        edge = start(["--origin-port", str(origin_port)], edge_port)
        try:
            catalog = wiring.catalog().drop(slug)
            sku = catalog.skus[0].sku
            tracked = (sku, catalog.skus[0].sizes[0])
            with urllib.request.urlopen(
                f"http://127.0.0.1:{origin_port}/drops/{slug}"
            ) as answer:  # the origin's own count
                page = answer.read().decode()
            base = shown_units(page, tracked)
            assert base is not None, f"the origin's page shows no {tracked} chip"
            location = next(loc.id for loc in catalog.locations if loc.kind == "popup")
            crowd = visitors_for(visitors, campaign_link(tier="gold"), random.Random(11))
            stop, written = threading.Event(), []
            began = time.perf_counter() + 0.5
            writer = threading.Thread(target=lambda: written.extend(deliveries(slug, tracked, location, began, stop)))
            writer.start()
            try:
                views = spike(edge_port, slug, crowd, seconds, tracked, began)
            finally:
                stop.set()
                writer.join()
            with urllib.request.urlopen(f"http://127.0.0.1:{edge_port}/.local-edge/stats") as answer:
                stats = json.loads(answer.read())
        finally:
            for process in (edge, origin):
                process.terminate()
                process.wait(timeout=10)
    served = [v for v in views if v.status == 200]
    ages = staleness(served, base, written)
    took = max(v.finished for v in views) - min(v.started for v in views)
    origin_seconds = stats["origin_seconds"]
    return {
        "drop": "flash sale (one price test, a gold-tier rule)" if flash_sale else "demo drop (every segment rule)",
        "visitors": visitors,
        "views": len(views),
        "ok": len(served),
        "seconds": round(took, 1),
        "views_per_s": round(len(views) / took, 1),
        "origin_requests": stats["counts"]["origin"],
        "origin_per_1000_views": round(stats["counts"]["origin"] / len(views) * 1000, 1),
        "served": dict(Counter(v.cache.split(" ")[0] for v in views)),
        "keys_kept": stats["counts"]["miss"],
        "view_ms": {
            "p50": round(percentile([v.finished - v.started for v in served], 0.5) * 1000, 2),
            "p99": round(percentile([v.finished - v.started for v in served], 0.99) * 1000, 2),
        },
        "origin_ms": {
            "p50": round(percentile(origin_seconds, 0.5) * 1000, 1),
            "p99": round(percentile(origin_seconds, 0.99) * 1000, 1),
        },
        "behind_schedule_ms_p99": round(percentile([v.started - v.due for v in views], 0.99) * 1000, 1),
        "stock_staleness_s": {
            "p50": round(percentile(ages, 0.5), 3),
            "p99": round(percentile(ages, 0.99), 3),
            "max": round(max(ages), 3),
            "deliveries": len(written),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {
        "flash_sale": measure(BENCH_SLUG, args.visitors, args.seconds, flash_sale=True),
        "demo_drop": measure("linen-lab", args.visitors, args.seconds, flash_sale=False),
    }
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
