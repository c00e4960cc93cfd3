"""The bookings adapter: a typed booking goes in with its stock and slot, and comes back the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.stock.ports import (
    BookedLine,
    Booking,
    BookingLimits,
    BookingState,
    ContactDetails,
    CustomerLimit,
    IdempotencyRecord,
    KeyAlreadyUsed,
    OutOfStock,
    SlotClaim,
    StockRef,
)
from chalicelib.store.bookings import DynamoBookings
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.client import call

SLOT = SlotClaim("paris-marais", "2026-12-02T10:00:00Z", "2026-12-02T10:30:00Z", 2)
NOW = int(datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp())


def booking(code: str, qty: int = 1) -> Booking:
    return Booking(
        code=code,
        drop="linen-lab",
        generation=0,
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
    DynamoCatalog(table).put_stock_if_absent(StockRef("linen-lab", 0, "TEE-ECRU", "M", "paris-marais"), 2)
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


@pytest.mark.parametrize("engine_returns_old_items", [True, False])
def test_a_failed_ledger_condition_is_told_as_the_limit_it_stood_for(
    store: DynamoBookings, engine_returns_old_items: bool
) -> None:
    limits = BookingLimits(units_per_size=1, discounted_units=1)
    first = replace(booking("LIM00001"), customer="c1")
    store.book(first, SLOT, record("limit-key-1"), date(2026, 12, 1), NOW, limits=limits)

    def without_old_items(operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return call(operation, **kwargs)
        except ClientError as error:  # as dynalite answers: no item with the cancellation reasons
            for reason in error.response.get("CancellationReasons", []):
                reason.pop("Item", None)
            raise

    racing = store if engine_returns_old_items else DynamoBookings(store._table, without_old_items)
    # The domain's early check is skipped (as when two bookings race): the transaction's condition decides.
    again = replace(booking("LIM00002"), customer="c1", visitor="v2")
    with pytest.raises(CustomerLimit) as refused:
        racing.book(again, SLOT, record("limit-key-2"), date(2026, 12, 1), NOW, limits=limits)
    assert refused.value.details == {"limit": 1, "sku": "TEE-ECRU", "size": "M"}
    assert store.reserved("linen-lab", "c1", "v2").of("TEE-ECRU", "M") == 1  # nothing more was counted
