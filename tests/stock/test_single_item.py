"""Holds and till sales: single-item conditional writes, on moto's server and on dynalite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import wiring
from chalicelib.stock.ports import OutOfStock, StockRef
from chalicelib.store.catalog import DynamoCatalog

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
REF = StockRef("drop", 0, "TEE", "M", "paris")


@pytest.fixture
def five_units(single_item_engine: str) -> StockRef:
    DynamoCatalog(single_item_engine).put_stock_if_absent(REF, 5)
    return REF


def counts(ref: StockRef) -> tuple[int, int, int, int]:
    item = wiring.stock().item(ref)
    assert item is not None
    return item["on_hand"], item["held"], item["sold"], item["available"]


def test_a_hold_takes_units_and_is_released_once(five_units: StockRef) -> None:
    stock = wiring.stock()
    hold = stock.place_hold(five_units, "h1", 2, NOW + timedelta(minutes=15), NOW)
    assert hold.qty == 2
    assert counts(five_units) == (5, 2, 0, 3)
    assert stock.release_hold(five_units, "h1") is True
    assert stock.release_hold(five_units, "h1") is False
    assert counts(five_units) == (5, 0, 0, 5)


def test_placing_the_same_hold_twice_holds_once(five_units: StockRef) -> None:
    stock = wiring.stock()
    first = stock.place_hold(five_units, "h1", 2, NOW + timedelta(minutes=15), NOW)
    again = stock.place_hold(five_units, "h1", 2, NOW + timedelta(minutes=30), NOW)
    assert again == first
    assert counts(five_units) == (5, 2, 0, 3)


def test_a_hold_beyond_what_is_available_is_refused(five_units: StockRef) -> None:
    with pytest.raises(OutOfStock) as refused:
        wiring.stock().place_hold(five_units, "h1", 6, NOW + timedelta(minutes=15), NOW)
    assert refused.value.shortages[0].available == 5
    assert counts(five_units) == (5, 0, 0, 5)


def test_a_hold_expires_exactly_at_its_expiry(five_units: StockRef) -> None:
    stock = wiring.stock()
    expiry = NOW + timedelta(minutes=15)
    stock.place_hold(five_units, "h1", 5, expiry, NOW)
    assert stock.release_expired(five_units, expiry - timedelta(seconds=1)) == 0
    assert counts(five_units) == (5, 5, 0, 0)
    assert stock.release_expired(five_units, expiry) == 5
    assert stock.release_expired(five_units, expiry) == 0
    assert counts(five_units) == (5, 0, 0, 5)


def test_the_next_buyer_releases_expired_holds_without_ttl(five_units: StockRef) -> None:
    stock = wiring.stock()
    expiry = NOW + timedelta(minutes=15)
    stock.place_hold(five_units, "old", 5, expiry, NOW)
    with pytest.raises(OutOfStock):
        stock.place_hold(five_units, "early", 1, expiry + timedelta(minutes=15), expiry - timedelta(seconds=1))
    stock.place_hold(five_units, "new", 1, expiry + timedelta(minutes=15), expiry)
    assert counts(five_units) == (5, 1, 0, 4)


def test_a_live_hold_is_never_released_as_expired(five_units: StockRef) -> None:
    """The expiry is in the release's condition: a stale read cannot release a hold renewed since."""
    stock = wiring.stock()
    stock.place_hold(five_units, "h1", 1, NOW + timedelta(minutes=15), NOW)
    item = stock.item(five_units)
    assert item is not None
    stale = {**item, "holds": {"h1": {"q": 1, "exp": int(NOW.timestamp()) - 60}}}  # what a stale reader saw
    assert stock._release_expired_in(five_units, stale, NOW) == 0
    assert counts(five_units) == (5, 1, 0, 4)


def test_a_till_sale_applies_once(five_units: StockRef) -> None:
    stock = wiring.stock()
    assert stock.apply_till_sale(five_units, "s1", 2, 4100, NOW, "Europe/Paris") == "applied"
    assert stock.apply_till_sale(five_units, "s1", 2, 4100, NOW, "Europe/Paris") == "duplicate"
    assert stock.apply_till_sale(five_units, "s2", 4, 4100, NOW, "Europe/Paris") == "out_of_stock"
    assert stock.apply_till_sale(StockRef("drop", 0, "NOPE", "M", "paris"), "s3", 1, 1, NOW, "UTC") == "unknown_item"
    assert counts(five_units) == (5, 0, 2, 3)
    assert wiring.stock().item(StockRef("drop", 0, "NOPE", "M", "paris")) is None  # no item made by the miss


def test_concurrent_till_sales_never_take_stock_below_zero(five_units: StockRef) -> None:
    stock = wiring.stock()
    stock.item(five_units)  # build the shared client before the threads start

    def sell(n: int) -> str:
        return stock.apply_till_sale(five_units, f"s{n % 12}", 1, 4100, NOW, "Europe/Paris")

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(sell, range(24)))  # 12 distinct sales, each sent twice
    assert outcomes.count("applied") == 5
    assert counts(five_units) == (5, 0, 5, 0)
    item = stock.item(five_units)
    assert item is not None and len(item["sale_ids"]) == 5


def test_the_sweep_releases_only_expired_holds_across_the_drop(five_units: StockRef, single_item_engine: str) -> None:
    other = StockRef(REF.slug, 0, REF.sku, "L", REF.location)
    DynamoCatalog(single_item_engine).put_stock_if_absent(other, 3)
    stock = wiring.stock()
    stock.place_hold(five_units, "gone", 2, NOW + timedelta(minutes=5), NOW)
    stock.place_hold(five_units, "live", 1, NOW + timedelta(minutes=30), NOW)
    stock.place_hold(other, "gone-too", 3, NOW + timedelta(minutes=5), NOW)
    assert stock.release_expired_in_drop(REF.slug, 0, NOW + timedelta(minutes=5)) == 5
    assert counts(five_units) == (5, 1, 0, 4)
    assert counts(other) == (3, 0, 0, 3)
    assert stock.release_expired_in_drop(REF.slug, 0, NOW + timedelta(minutes=5)) == 0
