"""A hypothesis state machine over one stock item: hold, book, cancel, expire, restock, till sale and
retry, in any order, on moto. After every step the item must match a plain model and keep its
invariants: available ≥ 0, held + sold ≤ on_hand, and the day counters add up to what was sold."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from moto import mock_aws

from chalicelib import wiring
from chalicelib.stock.ports import (
    BookedLine,
    Booking,
    BookingState,
    ContactDetails,
    Counter,
    IdempotencyRecord,
    KeyAlreadyUsed,
    OutOfStock,
    SlotClaim,
    StockRef,
)
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.client import dynamodb
from devtools.process import forget_process_state
from devtools.seed import ensure_table
from tests.conftest import TABLE, delivery

REF = StockRef("drop", 0, "TEE", "M", "paris")
SLOT = SlotClaim("paris", "2026-12-01T10:00:00Z", "2026-12-01T10:30:00Z", capacity=1_000)
START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class StockMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")
    sales = Bundle("sales")

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        forget_process_state()
        ensure_table(dynamodb(), TABLE)
        DynamoCatalog(TABLE).put_stock_if_absent(REF, 4)
        self.now = START
        self.on_hand, self.sold = 4, 0
        self.holds: dict[str, tuple[int, int]] = {}  # id → (qty, expiry epoch)
        self.booked: dict[str, int] = {}  # live bookings: code → qty
        self.applied_sales: set[str] = set()

    def teardown(self) -> None:
        self.mock.stop()
        forget_process_state()

    # --- the model --------------------------------------------------------------------------

    @property
    def held(self) -> int:
        return sum(qty for qty, _ in self.holds.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.held - self.sold

    def _release_expired(self) -> int:
        cutoff = int(self.now.timestamp())
        expired = [hold for hold, (_, expiry) in self.holds.items() if expiry <= cutoff]
        released = sum(self.holds.pop(hold)[0] for hold in expired)
        return released

    # --- rules ------------------------------------------------------------------------------

    @rule(qty=st.integers(1, 3), minutes=st.integers(1, 30))
    def hold(self, qty: int, minutes: int) -> None:
        hold_id = uuid.uuid4().hex[:8]
        expiry = self.now + timedelta(minutes=minutes)
        if self.available < qty:
            self._release_expired()
        expect = self.available >= qty
        try:
            wiring.stock().place_hold(REF, hold_id, qty, expiry, self.now)
        except OutOfStock:
            assert not expect
            return
        assert expect
        self.holds[hold_id] = (qty, int(expiry.timestamp()))

    @rule(data=st.data())
    def release_hold(self, data: st.DataObject) -> None:
        if not self.holds:
            return
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        assert wiring.stock().release_hold(REF, hold_id) is True
        del self.holds[hold_id]
        assert wiring.stock().release_hold(REF, hold_id) is False

    @rule(target=bookings, qty=st.integers(1, 3))
    def book(self, qty: int) -> dict[str, Any]:
        code, key = uuid.uuid4().hex[:8].upper(), uuid.uuid4().hex
        booking = self._booking(code, qty)
        expect = self.available >= qty
        try:
            self._book(booking, key)
        except OutOfStock:
            assert not expect
            return {"booking": None, "key": key}
        assert expect
        self.sold += qty
        self.booked[code] = qty
        return {"booking": booking, "key": key}

    @rule(attempt=bookings)
    def retry_booking(self, attempt: dict[str, Any]) -> None:
        """The same request again (a lost reply): it must not book twice."""
        if attempt["booking"] is None:
            return
        twin = replace(attempt["booking"], code=uuid.uuid4().hex[:8].upper())
        with pytest.raises(KeyAlreadyUsed):
            self._book(twin, attempt["key"])

    @rule(attempt=bookings, to=st.sampled_from([BookingState.CANCELLED, BookingState.NO_SHOW]))
    def leave(self, attempt: dict[str, Any], to: BookingState) -> None:
        booking = attempt["booking"]
        if booking is None:
            return
        live = booking.code in self.booked
        changed = wiring.bookings().leave_booked(booking, to, self.now.isoformat(), self.now.date())
        assert changed is live
        if live:
            self.sold -= self.booked.pop(booking.code)

    @rule(qty=st.integers(1, 5))
    def restock(self, qty: int) -> None:
        wiring.stock().restock(REF, qty, delivery)
        self.on_hand += qty

    @rule(target=sales, qty=st.integers(1, 3))
    def till_sale(self, qty: int) -> tuple[str, int]:
        sale_id = uuid.uuid4().hex[:10]
        self._sell(sale_id, qty)
        return sale_id, qty

    @rule(sale=sales)
    def till_sale_again(self, sale: tuple[str, int]) -> None:
        self._sell(*sale)

    @rule(minutes=st.integers(1, 20))
    def tick(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule()
    def expire(self) -> None:
        assert wiring.stock().release_expired(REF, self.now) == self._release_expired()

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def matches_the_model_and_keeps_its_invariants(self) -> None:
        item = wiring.stock().item(REF)
        assert item is not None
        assert (item["on_hand"], item["held"], item["sold"], item["available"]) == (
            self.on_hand,
            self.held,
            self.sold,
            self.available,
        )
        assert item["available"] >= 0
        assert item["held"] + item["sold"] <= item["on_hand"]
        assert item["held"] == sum(hold["q"] for hold in item["holds"].values())
        counted = {counter: 0 for counter in Counter}
        for name, value in item.items():
            kind, _, day = name.partition("@")
            if day and kind in counted:
                counted[Counter(kind)] += value
        booked_out = counted[Counter.BOOKED] - counted[Counter.CANCELLED] - counted[Counter.NO_SHOW]
        assert booked_out + counted[Counter.TILL_SOLD] == item["sold"]
        assert len(item.get("sale_ids", ())) == len(self.applied_sales)

    # --- helpers ----------------------------------------------------------------------------

    def _booking(self, code: str, qty: int) -> Booking:
        return Booking(
            code=code,
            drop=REF.slug,
            generation=REF.generation,
            popup=REF.location,
            timezone="Europe/Paris",
            slot_start=SLOT.start,
            slot_end=SLOT.end,
            items=(BookedLine(REF.sku, REF.size, qty, 4100, 4100, 4100 * qty, "d"),),
            total_minor=4100 * qty,
            currency="EUR",
            contact=ContactDetails("Ada", "ada@example.org"),
            visitor="v",
            state=BookingState.BOOKED,
            booked_at=self.now.isoformat(),
        )

    def _book(self, booking: Booking, key: str) -> None:
        expires = int((self.now + timedelta(hours=24)).timestamp())
        record = IdempotencyRecord(key, "hash", {"code": booking.code}, expires)
        wiring.bookings().book(booking, SLOT, record, self.now.date(), int(self.now.timestamp()))

    def _sell(self, sale_id: str, qty: int) -> None:
        outcome = wiring.stock().apply_till_sale(REF, sale_id, qty, 4100, self.now, "Europe/Paris")
        if sale_id in self.applied_sales:
            assert outcome == "duplicate"
        elif self.available >= qty:
            assert outcome == "applied"
            self.applied_sales.add(sale_id)
            self.sold += qty
        else:
            assert outcome == "out_of_stock"


def test_stock_keeps_its_invariants_whatever_happens() -> None:
    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        StockMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
