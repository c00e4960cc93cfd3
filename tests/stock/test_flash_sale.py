"""Concurrency over a real socket: 400 buyers for 100 units at 32 threads, against moto's server
made atomic per request. Races between our requests show; nothing may be oversold or overbooked.
`make bench` runs the launch-sized sale (2,000 buyers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools import flash_sale
from devtools.process import forget_process_state


def test_no_oversell_no_overbooking_and_counters_add_up(moto_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto serves one request at a time, so 32 clients queue behind each other far longer than on
    # DynamoDB: give the emulator's queue time rather than count its waits as outages.
    monkeypatch.setenv("DROPFRONT_DYNAMODB_READ_TIMEOUT", "120")
    forget_process_state()
    now = datetime.now(UTC)
    sale = flash_sale.FlashSale(units=100, buyers=400, threads=32)
    slots = flash_sale.prepare(moto_table, sale, now)
    flash_sale.run(sale, slots, now)
    result = flash_sale.audit(moto_table, now)

    assert sale.outcomes["booked"] == 100  # sold equals stock
    assert sum(sale.outcomes.values()) == 400
    assert set(sale.outcomes) <= {"booked", "out_of_stock", "slot_full"}
    assert (result.sold, result.available, result.oversold()) == (100, 0, 0)
    assert result.bookings == len(sale.codes) == 100  # each success has its booking
    assert result.overbooked(sale.capacity) == 0
    assert sum(result.slot_places.values()) == 100
    assert result.booked_counter == 100
