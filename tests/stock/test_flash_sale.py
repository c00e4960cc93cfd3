"""Concurrency over a real socket: 400 buyers for 100 units at 32 threads, against moto's server
made atomic per request, with the size on one stock item and on 8 shards (half the buyers holding
first, as the drop page does). Races between our requests show; nothing may be oversold or
overbooked. `make bench` runs the launch-sized sale (2,000 buyers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools import flash_sale
from devtools.process import forget_process_state


@pytest.mark.parametrize(("shards", "holding"), [(1, 0.0), (8, 0.5)], ids=["N=1", "N=8"])
def test_no_oversell_no_overbooking_and_counters_add_up(
    moto_table: str, monkeypatch: pytest.MonkeyPatch, shards: int, holding: float
) -> None:
    # moto serves one request at a time, so 32 clients queue behind each other far longer than on
    # DynamoDB: give the emulator's queue time rather than count its waits as outages.
    monkeypatch.setenv("DROPFRONT_DYNAMODB_READ_TIMEOUT", "120")
    forget_process_state()
    now = datetime.now(UTC)
    sale = flash_sale.FlashSale(units=100, buyers=400, threads=32, shards=shards, holding=holding)
    slots = flash_sale.prepare(moto_table, sale, now)
    flash_sale.run(sale, slots, now)
    result = flash_sale.audit(moto_table, now)

    booked = sale.outcomes["booked"]
    assert sum(sale.outcomes.values()) == 400
    assert set(sale.outcomes) <= {"booked", "out_of_stock", "slot_full"}
    assert (result.oversold(), result.held) == (0, 0)
    assert result.sold + result.available == result.on_hand == 100
    if not holding:  # nobody gives a piece back late: everything sells
        assert booked == 100
    assert result.sold == booked > 90
    assert result.bookings == len(sale.codes) == booked  # each success has its booking
    assert result.overbooked(sale.capacity) == 0
    assert sum(result.slot_places.values()) == booked
    assert result.booked_counter == booked


def test_a_large_slot_spread_over_shards_is_never_overbooked(moto_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One slot of 40 places over 4 items of 10 (the drop's 4 stock shards), 60 pieces, 100 buyers:
    the slot fills exactly, each item within its share."""
    monkeypatch.setenv("DROPFRONT_DYNAMODB_READ_TIMEOUT", "120")
    forget_process_state()
    now = datetime.now(UTC)
    sale = flash_sale.FlashSale(units=60, buyers=100, threads=16, shards=4, slots=1, places=40)
    slots = flash_sale.prepare(moto_table, sale, now)
    flash_sale.run(sale, slots, now)
    result = flash_sale.audit(moto_table, now)

    assert sale.outcomes == {"booked": 40, "slot_full": 60}
    assert list(result.slot_places.values()) == [40]
    assert sorted(result.slot_items.values()) == [10, 10, 10, 10]
    assert (result.sold, result.available, result.oversold()) == (40, 20, 0)
    assert result.bookings == 40
