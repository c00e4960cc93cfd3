"""A hypothesis state machine over bookings, cancels, no-shows and pickups by a few customers on a
few cookies, on moto: after every step each customer's and each visitor's ledger equals what their
live bookings hold, and a booking passes exactly when the model says it stays within the limits."""

from __future__ import annotations

import uuid
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from moto import mock_aws

from chalicelib import wiring
from chalicelib.stock.ports import (
    BookedLine,
    Booking,
    BookingLimits,
    BookingState,
    ContactDetails,
    CustomerLimit,
    DiscountLimit,
    IdempotencyRecord,
    SlotClaim,
    StockRef,
)
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.client import dynamodb
from devtools.process import forget_process_state
from devtools.seed import ensure_table
from tests.conftest import TABLE

DROP, POPUP = "drop", "paris"
ITEMS = (("TEE", "M"), ("TEE", "L"))
CUSTOMERS, VISITORS = ("c-ada", "c-bob"), ("v1", "v2")
LIMITS = BookingLimits(units_per_size=3, discounted_units=2)
SLOT = SlotClaim(POPUP, "2026-12-01T10:00:00Z", "2026-12-01T10:30:00Z", capacity=10_000)
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class LedgerMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        forget_process_state()
        ensure_table(dynamodb(), TABLE)
        for sku, size in ITEMS:
            DynamoCatalog(TABLE).put_stock_if_absent(StockRef(DROP, 0, sku, size, POPUP), 10_000)
        self.live: dict[str, Booking] = {}  # booked or picked up: what counts toward the limits

    def teardown(self) -> None:
        self.mock.stop()

    def _model(self, who: str, of_visitor: bool) -> tuple[Tally[tuple[str, str]], int]:
        mine = [b for b in self.live.values() if (b.visitor if of_visitor else b.customer) == who]
        units: Tally[tuple[str, str]] = Tally()
        for booking in mine:
            units.update({(i.sku, i.size): i.qty for i in booking.items})
        return units, sum(b.discounted_units for b in mine)

    def _fits(self, booking: Booking) -> bool:
        for who, of_visitor in ((booking.customer, False), (booking.visitor, True)):
            units, discounted = self._model(who, of_visitor)
            if any(units[(i.sku, i.size)] + i.qty > LIMITS.units_per_size for i in booking.items):
                return False
            if booking.discounted_units and discounted + booking.discounted_units > (LIMITS.discounted_units or 0):
                return False
        return True

    @rule(
        target=bookings,
        customer=st.sampled_from(CUSTOMERS),
        visitor=st.sampled_from(VISITORS),
        item=st.sampled_from(ITEMS),
        qty=st.integers(1, 2),
        data=st.data(),
    )
    def book(self, customer: str, visitor: str, item: tuple[str, str], qty: int, data: st.DataObject) -> Booking:
        discounted = data.draw(st.integers(0, qty))
        code = uuid.uuid4().hex[:8].upper()
        booking = Booking(
            code=code,
            drop=DROP,
            generation=0,
            popup=POPUP,
            timezone="Europe/Paris",
            slot_start=SLOT.start,
            slot_end=SLOT.end,
            items=(BookedLine(item[0], item[1], qty, 4100, 3700, 4100 * qty - 400 * discounted, "d"),),
            total_minor=4100 * qty - 400 * discounted,
            currency="EUR",
            contact=ContactDetails("Ada", "ada@example.org"),
            visitor=visitor,
            state=BookingState.BOOKED,
            booked_at=NOW.isoformat(),
            customer=customer,
            discounted_units=discounted,
        )
        fits = self._fits(booking)
        record = IdempotencyRecord(uuid.uuid4().hex, "hash", {"code": code}, int((NOW + timedelta(days=1)).timestamp()))
        try:
            wiring.bookings().book(booking, SLOT, record, NOW.date(), int(NOW.timestamp()), limits=LIMITS)
        except (CustomerLimit, DiscountLimit):
            assert not fits
            return booking
        assert fits
        self.live[code] = booking
        return booking

    @rule(booking=bookings, to=st.sampled_from([BookingState.CANCELLED, BookingState.NO_SHOW, BookingState.PICKED_UP]))
    def leave(self, booking: Booking, to: BookingState) -> None:
        changed = wiring.bookings().leave_booked(booking, to, NOW.isoformat(), NOW.date())
        was_booked = booking.code in self.live and self.live[booking.code].state is BookingState.BOOKED
        assert changed is was_booked
        if not changed:
            return
        if to is BookingState.PICKED_UP:  # bought: it still counts
            self.live[booking.code] = Booking(**{**booking.__dict__, "state": to})
        else:
            del self.live[booking.code]

    @invariant()
    def each_ledger_is_what_its_live_bookings_hold(self) -> None:
        store = wiring.bookings()
        for who, of_visitor in [(c, False) for c in CUSTOMERS] + [(v, True) for v in VISITORS]:
            units, discounted = self._model(who, of_visitor)
            found = store.reserved(DROP, "", who) if of_visitor else store.reserved(DROP, who, "")
            assert {k: n for k, n in found.units.items() if n} == {k: n for k, n in units.items() if n}
            assert found.discounted == discounted


def test_the_ledgers_match_the_bookings_whatever_happens() -> None:
    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        LedgerMachine,
        settings=settings(
            max_examples=20, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
