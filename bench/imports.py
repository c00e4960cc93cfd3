"""A 20,000-row CSV import, whole, then another cut off by a timeout at every tenth write and
imported again after each: is the live drop whole after every attempt, and how much work do the
retries cost? (issue 15's figure; ``python -m bench.imports``.)

On the embedded DynamoDB in its own process, through the app's own import (``run_import`` with the
studio's adapter). File A (5 units a line) is imported cleanly and timed. Then file B (6 units a
line) is imported the way a marketer would after timeouts: every tenth write of the whole run
applies and loses its answer (the worst timeout: the caller cannot know it landed), and each time
the same file is imported again, which resumes where the last attempt got to. After each attempt
the drop's live SKUs and stock must be exactly A's or exactly B's, never a mix.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from bench.flash_sale import _fresh_table
from bench.setup import dynamodb_process
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Unavailable
from chalicelib.core.models import DropCatalog, iso
from devtools.embedded_dynamodb import use_fake_credentials

SLUG = "winter-knit"
SIZES = ("XS", "S", "M", "L")
MAX_ATTEMPTS = 10_000
WRITES = frozenset({"batch_write_item", "transact_write_items", "update_item", "put_item", "delete_item"})


def big_csv(catalog: DropCatalog, rows: int, units: int) -> str:
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
                row = [f"BIG-{n:05d}", f"big-{n}", size, place, str(units), "#334455", f"Big {n}", "Blue", *flat]
                writer.writerow(row)
    return out.getvalue()


class EveryTenth:
    """The app's DynamoDB call, except that every ``every``-th write applies and then its answer is lost."""

    def __init__(self, every: int) -> None:
        from chalicelib.store.client import call

        self.call, self.every, self.writes = call, every, 0

    def __call__(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        answer = self.call(operation, **kwargs)
        if operation in WRITES:
            self.writes += 1
            if self.writes % self.every == 0:
                raise Unavailable(f"DynamoDB {operation} did not answer: ReadTimeoutError")
        return answer


class Live(NamedTuple):
    """What shoppers of the drop reach: its SKUs and stock lines (digests), and the units available."""

    skus: str
    lines: str
    units: frozenset[int]
    sizes: tuple[int, int]  # SKUs, stock lines

    def is_whole(self, other: Live, units: int) -> bool:
        """``other``'s SKUs and stock lines, each with ``units`` available."""
        return (self.skus, self.lines, self.units) == (other.skus, other.lines, frozenset({units}))


def live_state(table: str) -> Live:
    from chalicelib.store.catalog import DynamoCatalog

    store = DynamoCatalog(table)
    catalog = store.drop_catalog(SLUG)
    assert catalog is not None
    available = store.available_stock(SLUG, catalog.drop.generation).available  # per SKU, size and location
    sizes = (len(catalog.skus), len(available))
    return Live(_digest(catalog.skus), _digest(sorted(available)), frozenset(available.values()), sizes)


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def _import(table: str, text: str, call: Callable[..., dict[str, Any]] | None) -> None:
    from chalicelib.store.catalog import DynamoCatalog
    from chalicelib.store.imports import DynamoImports
    from chalicelib.studio.imports import run_import

    catalog = DynamoCatalog(table).drop_catalog(SLUG)
    assert catalog is not None
    store = DynamoImports(table) if call is None else DynamoImports(table, call=call)
    for _ in run_import(store, catalog, text, lambda s: AuditEntry(SLUG, "bench", "import", s, iso(_now())), _now):
        pass


def _now() -> datetime:
    return datetime.now(UTC)


def measure(rows: int = 20_000, every: int = 10) -> dict[str, Any]:
    from chalicelib.store.catalog import DynamoCatalog
    from devtools.seed import demo_drops, seed

    use_fake_credentials()
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", "bench-key")
    # moto copies the whole table for each transaction (45,000 items here): seconds, not DynamoDB's
    # milliseconds. A long read timeout keeps botocore from retrying a switch moto is still applying.
    os.environ["DROPFRONT_DYNAMODB_READ_TIMEOUT"] = "120"
    start = datetime.now(UTC)
    with dynamodb_process() as endpoint:
        table = _fresh_table(endpoint, "imports")
        seed(table, start, [d for d in demo_drops(start) if d.catalog.drop.slug == SLUG], fresh=True)
        catalog = DynamoCatalog(table).drop_catalog(SLUG)
        assert catalog is not None
        file_a, file_b = big_csv(catalog, rows, 5), big_csv(catalog, rows, 6)
        counting = EveryTenth(1 << 62)  # never times out: counts a clean import's writes
        began = time.perf_counter()
        _import(table, file_a, counting)
        whole_seconds = time.perf_counter() - began
        print(f"whole import: {whole_seconds:.1f} s, {counting.writes} writes", file=sys.stderr, flush=True)
        state_a = live_state(table)
        assert state_a.units == {5}, state_a.units
        flaky, attempts, timed_out, mixed, began = EveryTenth(every), 0, 0, 0, time.perf_counter()
        while attempts < MAX_ATTEMPTS:
            attempts += 1
            try:
                _import(table, file_b, flaky)
            except Unavailable:
                timed_out += 1
            now = live_state(table)
            print(f"attempt {attempts}: {flaky.writes} writes so far", file=sys.stderr, flush=True)
            if now.is_whole(state_a, 6):
                break
            mixed += now != state_a  # neither A whole nor B whole
        return {
            "rows": rows,
            "skus": state_a.sizes[0],
            "stock_lines": state_a.sizes[1],
            "whole_import_s": round(whole_seconds, 1),
            "writes_whole": counting.writes,
            "attempts": attempts,
            "timed_out": timed_out,
            "writes_with_retries": flaky.writes,
            "retries_s": round(time.perf_counter() - began, 1),
            "live_drop_mixed": mixed,
            "b_live_whole": now.is_whole(state_a, 6),
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
