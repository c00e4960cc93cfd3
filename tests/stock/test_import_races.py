"""Imports of one drop at once, over a socket to moto's server: exactly one goes live, whole."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from chalicelib import wiring
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict
from chalicelib.store.client import call, dynamodb, paginate
from chalicelib.studio.imports import run_import
from devtools.seed import demo_drops, seed
from tests.studio.test_imports import many_skus, to_csv

NOW = datetime.now(UTC)
SLUG = "winter-knit"


def import_csv(text: str) -> None:
    catalog = wiring.catalog_store().drop_catalog(SLUG)
    assert catalog is not None
    entry = lambda summary: AuditEntry(SLUG, "race", "import", summary, "2026-11-01T00:00:00Z")  # noqa: E731
    for _ in run_import(wiring.product_imports(), catalog, text, entry, lambda: NOW):
        pass


def live_counts() -> tuple[int, int]:
    catalog = wiring.catalog_store().drop_catalog(SLUG)
    assert catalog is not None
    available = wiring.catalog_store().available_stock(SLUG, catalog.drop.generation).available
    return len(catalog.skus), len(available)


def test_six_imports_at_once_put_exactly_one_live_whole(moto_table: str) -> None:
    seed(moto_table, NOW, [d for d in demo_drops(NOW) if d.catalog.drop.slug == SLUG], fresh=True)
    sizes = (3, 4, 5, 6, 7, 8)
    barrier = threading.Barrier(len(sizes))

    def attempt(skus: int) -> int | str:
        text = to_csv(many_skus(skus))
        barrier.wait()
        try:
            import_csv(text)
        except Conflict as refused:
            return refused.code
        return skus

    dynamodb()  # one shared client, built before the threads
    with ThreadPoolExecutor(max_workers=len(sizes)) as pool:
        outcomes = list(pool.map(attempt, sizes))
    [winner] = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert {outcome for outcome in outcomes if isinstance(outcome, str)} <= {"import_running", "edit_conflict"}
    assert live_counts() == (winner, winner * 4)  # its SKUs and every one of its stock lines, nothing else
    import_csv(to_csv(many_skus(2)))
    assert live_counts() == (2, 8)
    partitions = {item["pk"]["S"] for item in paginate(call, "scan", TableName=moto_table)}
    assert [p for p in partitions if p.startswith(f"STOCK#{SLUG}#")] == [f"STOCK#{SLUG}#g{live_generation()}"]


def live_generation() -> int:
    catalog = wiring.catalog_store().drop_catalog(SLUG)
    assert catalog is not None
    return catalog.drop.generation
