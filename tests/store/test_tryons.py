"""The try-ons adapter: a typed try-on holds its unit with the shared hold write, and reads back the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from chalicelib.stock.ports import OutOfStock, PlaceTaken, StockRef, VisitorPlace
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.stock import DynamoStock
from chalicelib.store.tryons import DynamoTryOns
from chalicelib.tryon.ports import FunnelStep, TryOn, TryOnClaim, TryOnState

NOW = 1_796_000_000
TRYON = TryOn(
    tryon_id="19a2b3c4d5e0a1b2c",
    drop="linen-lab",
    generation=0,
    sku="TEE-ECRU",
    size="M",
    popup="paris-marais",
    timezone="Europe/Paris",
    visitor="v1",
    place="s0",
    state=TryOnState.WAITING,
    requested_at="2026-12-01T12:00:00Z",
    hold_expires_at=NOW + 900,
    ticket=7,
)


@pytest.fixture
def store(table: str) -> DynamoTryOns:
    for size in ("M", "S"):
        DynamoCatalog(table).put_stock_if_absent(StockRef("linen-lab", 0, "TEE-ECRU", size, "paris-marais"), 1)
    return DynamoTryOns(table)


def test_a_try_on_round_trips_and_holds_its_unit(store: DynamoTryOns, table: str) -> None:
    store.request(TryOnClaim(TRYON, date(2026, 12, 1)), NOW)
    assert store.tryon(TRYON.tryon_id) == TRYON
    assert store.queue("paris-marais", "0") == [TRYON]
    assert store.visitor_places("v1") == {"s0": VisitorPlace(TRYON.tryon_id, TRYON.hold_expires_at)}
    item = DynamoStock(table).item(TRYON.ref)
    assert item is not None and (item["held"], item["available"], item["holds"][TRYON.tryon_id]["q"]) == (1, 0, 1)


def test_the_last_unit_and_a_taken_place_are_refused(store: DynamoTryOns) -> None:
    store.request(TryOnClaim(TRYON, date(2026, 12, 1)), NOW)
    with pytest.raises(OutOfStock):
        store.request(TryOnClaim(replace(TRYON, tryon_id="19a2b3c4d5e0a1b2d", place="s1"), date(2026, 12, 1)), NOW)
    with pytest.raises(PlaceTaken):
        store.request(TryOnClaim(replace(TRYON, tryon_id="19a2b3c4d5e0a1b2e", size="S"), date(2026, 12, 1)), NOW)


def test_an_outcome_links_once(store: DynamoTryOns) -> None:
    store.request(TryOnClaim(TRYON, date(2026, 12, 1)), NOW)
    assert store.link(TRYON, "booking", "ABCDEFGH", FunnelStep.BOOKED_AFTER_TRYON, date(2026, 12, 1))
    assert not store.link(TRYON, "booking", "BCDEFGHJ", FunnelStep.BOOKED_AFTER_TRYON, date(2026, 12, 1))
    assert store.tryon(TRYON.tryon_id) == replace(TRYON, booking="ABCDEFGH")


def test_queue_numbers_count_up_per_pop_up_and_day(store: DynamoTryOns) -> None:
    day, next_day = date(2026, 12, 1), date(2026, 12, 2)
    assert [store.next_ticket("paris-marais", day, NOW) for _ in range(3)] == [1, 2, 3]
    assert store.next_ticket("berlin-mitte", day, NOW) == 1  # each pop-up has its own line
    assert store.next_ticket("paris-marais", next_day, NOW) == 1  # and starts again each day
    assert store.next_ticket("paris-marais", day, NOW) == 4
