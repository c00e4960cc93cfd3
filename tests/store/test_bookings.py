"""The bookings adapter: a typed booking goes in with its stock and slot, and comes back the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.stock.ports import (
    BookedLine,
    Booking,
    BookingState,
    ContactDetails,
    IdempotencyRecord,
    KeyAlreadyUsed,
    OutOfStock,
    SlotClaim,
)
from chalicelib.store.bookings import DynamoBookings
from chalicelib.store.catalog import DynamoCatalog

SLOT = SlotClaim("paris-marais", "2026-12-02T10:00:00Z", "2026-12-02T10:30:00Z", 2)
NOW = int(datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp())


def booking(code: str, qty: int = 1) -> Booking:
    return Booking(
        code=code,
        drop="linen-lab",
        popup="paris-marais",
        timezone="Europe/Paris",
        slot_start=SLOT.start,
        slot_end=SLOT.end,
        items=(BookedLine("TEE-ECRU", "M", qty, 4100, 3895, 3895 * qty, "dec-1"),),
        total_minor=3895 * qty,
        currency="EUR",
        contact=ContactDetails("Ada", "ada@example.org"),
        visitor="v1",
        state=BookingState.BOOKED,
        booked_at="2026-12-01T12:00:00Z",
        numbers={"units@full-price@EUR": qty},
        spend={"creator-ana@EUR": 205},
    )


@pytest.fixture
def store(table: str) -> DynamoBookings:
    DynamoCatalog(table).put_stock_if_absent("linen-lab", "TEE-ECRU", "M", "paris-marais", 2)
    return DynamoBookings(table)


def record(key: str) -> IdempotencyRecord:
    return IdempotencyRecord(key, "hash", {"code": key}, NOW + 3600)


def test_a_booking_round_trips_as_the_record_it_was(store: DynamoBookings) -> None:
    store.book(booking("ABCDEFGH"), SLOT, record("key-00001"), date(2026, 12, 1), NOW)
    assert store.booking("ABCDEFGH") == booking("ABCDEFGH")
    assert store.popup_bookings("paris-marais", SLOT.start, SLOT.start) == [booking("ABCDEFGH")]
    assert store.slot_bookings("paris-marais", SLOT.start, SLOT.start) == {SLOT.start: 1}


def test_leaving_booked_records_when_and_refuses_a_second_move(store: DynamoBookings) -> None:
    store.book(booking("ABCDEFGH"), SLOT, record("key-00001"), date(2026, 12, 1), NOW)
    assert store.leave_booked(booking("ABCDEFGH"), BookingState.CANCELLED, "2026-12-01T13:00:00Z", date(2026, 12, 1))
    assert not store.leave_booked(booking("ABCDEFGH"), BookingState.NO_SHOW, "2026-12-01T14:00:00Z", date(2026, 12, 1))
    expected = replace(booking("ABCDEFGH"), state=BookingState.CANCELLED, left_at="2026-12-01T13:00:00Z")
    assert store.booking("ABCDEFGH") == expected


def test_refusals_name_what_was_short_and_which_key_was_used(store: DynamoBookings) -> None:
    store.book(booking("ABCDEFGH"), SLOT, record("key-00001"), date(2026, 12, 1), NOW)
    with pytest.raises(KeyAlreadyUsed):
        store.book(booking("BCDEFGHJ"), SLOT, record("key-00001"), date(2026, 12, 1), NOW)
    with pytest.raises(OutOfStock) as short:
        store.book(booking("CDEFGHJK", qty=2), SLOT, record("key-00002"), date(2026, 12, 1), NOW)
    assert [(s.sku, s.requested, s.available) for s in short.value.shortages] == [("TEE-ECRU", 2, 1)]
