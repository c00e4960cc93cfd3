"""A 20,000-row CSV import, whole, then cut off by a timeout at every tenth write: is the live drop
whole after each? (issue 15's figure; ``python -m bench.imports``.) ``make bench`` runs it at 2,000
rows: moto's server slows as the table grows (it copies the table for each transaction), and the
20,000-row run did not finish in 10 minutes on 2 cores; the code path is the same at any size.

On the embedded DynamoDB in its own process, through the app's own import (``run_import`` with the
studio's adapter). A clean import is timed first. Then attempt *k* loses the answer of write 10·*k*
after it applied (the worst timeout: the caller cannot know it landed); after each attempt the
drop's live SKUs and stock must be exactly those before it or exactly the CSV's, never a mix. Each
attempt runs a lease interval later than the last, since a lease whose taking timed out is held
until it goes stale. The attempts stop when one finishes before its timeout's write.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.flash_sale import _fresh_table
from bench.setup import dynamodb_process
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Unavailable
from chalicelib.core.models import DropCatalog, iso
from chalicelib.stock.ports import STALE_AFTER
from devtools.embedded_dynamodb import use_fake_credentials

SLUG = "winter-knit"
SIZES = ("XS", "S", "M", "L")
WRITES = frozenset({"batch_write_item", "transact_write_items", "update_item", "put_item", "delete_item"})


def big_csv(catalog: DropCatalog, rows: int) -> str:
    """``rows`` rows: SKUs × 4 sizes × the drop's locations, priced in each of its currencies."""
    currencies = tuple(dict.fromkeys(m.currency for m in catalog.drop.markets))
    locale = catalog.drop.default_market.default_locale
    header = ["sku", "product", "size", "location", "on_hand", "swatch", f"name.{locale}", f"colour.{locale}"]
    header += [f"{kind}.{c}" for c in currencies for kind in ("price", "cost")]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    places = catalog.drop.location_ids
    for n in range(rows // (len(SIZES) * len(places))):
        for size in SIZES:
            for place in places:
                money = [("9000" if c == "JPY" else "60.00", "3000" if c == "JPY" else "20.00") for c in currencies]
                flat = [value for pair in money for value in pair]
                writer.writerow([f"BIG-{n:05d}", f"big-{n}", size, place, "5", "#334455", f"Big {n}", "Blue", *flat])
    return out.getvalue()


class TimeoutAt:
    """The app's DynamoDB call, except that write number ``at`` applies and then its answer is lost."""

    def __init__(self, at: int) -> None:
        from chalicelib.store.client import call

        self.call, self.at, self.writes = call, at, 0

    def __call__(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        answer = self.call(operation, **kwargs)
        if operation in WRITES:
            self.writes += 1
            if self.writes == self.at:
                raise Unavailable(f"DynamoDB {operation} did not answer: ReadTimeoutError")
        return answer


def live_state(table: str) -> tuple[int, int, str]:
    """The live generation's SKU count, stock item count and a digest of both (what shoppers reach)."""
    import hashlib

    from chalicelib.store.catalog import DynamoCatalog

    store = DynamoCatalog(table)
    catalog = store.drop_catalog(SLUG)
    assert catalog is not None
    available, on_hand = store.available_stock(SLUG, catalog.drop.generation)
    digest = hashlib.sha256(repr((catalog.skus, sorted(available.items()), sorted(on_hand.items()))).encode())
    return len(catalog.skus), len(available), digest.hexdigest()


def _import(table: str, text: str, call: Callable[..., dict[str, Any]] | None, clock: Callable[[], datetime]) -> None:
    from chalicelib.store.catalog import DynamoCatalog
    from chalicelib.store.imports import DynamoImports
    from chalicelib.studio.imports import run_import

    catalog = DynamoCatalog(table).drop_catalog(SLUG)
    assert catalog is not None
    store = DynamoImports(table) if call is None else DynamoImports(table, call=call)
    for _ in run_import(store, catalog, text, lambda s: AuditEntry(SLUG, "bench", "import", s, iso(clock())), clock):
        pass


def _at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def measure(rows: int = 20_000, every: int = 10) -> dict[str, Any]:
    from chalicelib.store.catalog import DynamoCatalog
    from devtools.seed import demo_drops, seed

    use_fake_credentials()
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", "bench-key")
    # moto copies the whole table for each transaction (22,500 items here): seconds, not DynamoDB's
    # milliseconds. A long read timeout keeps botocore from retrying a switch moto is still applying.
    os.environ["DROPFRONT_DYNAMODB_READ_TIMEOUT"] = "120"
    start = datetime.now(UTC)
    with dynamodb_process() as endpoint:
        table = _fresh_table(endpoint, "imports")
        seed(table, start, [d for d in demo_drops(start) if d.catalog.drop.slug == SLUG], fresh=True)
        catalog = DynamoCatalog(table).drop_catalog(SLUG)
        assert catalog is not None
        text = big_csv(catalog, rows)
        old = live_state(table)
        began = time.perf_counter()
        _import(table, text, None, _at(start))
        whole_seconds = time.perf_counter() - began
        print(f"whole import: {whole_seconds:.1f} s", file=sys.stderr, flush=True)
        new = live_state(table)
        attempts, mixed, timed_out, began = 0, 0, 0, time.perf_counter()
        while True:
            attempts += 1
            flaky, before = TimeoutAt(every * attempts), live_state(table)
            moment = start + attempts * STALE_AFTER
            try:
                _import(table, text, flaky, _at(moment))
            except Unavailable:
                timed_out += 1
            after = live_state(table)
            mixed += after not in (before, new)
            print(f"attempt {attempts}: timeout at write {flaky.at} of {flaky.writes}", file=sys.stderr, flush=True)
            if flaky.writes < flaky.at:
                break
        return {
            "rows": rows,
            "skus_before": old[0],
            "skus_after": new[0],
            "stock_items_after": new[1],
            "whole_import_s": round(whole_seconds, 1),
            "writes_per_import": flaky.writes,
            "attempts": attempts,
            "timed_out": timed_out,
            "live_drop_mixed": mixed,
            "attempts_s": round(time.perf_counter() - began, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=10, help="a timeout at every n-th write")
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = parser.parse_args()
    figures = json.dumps(measure(args.rows, args.every), indent=2)
    print(figures)
    if args.out:
        args.out.write_text(figures + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
