"""A hypothesis state machine over one size's stock, on one item (N = 1) and on 8 shards (N = 8):
hold, book, cancel, expire, restock, till sale, retry and rebalance, in any order, on moto. After
every step each shard must match a plain model and keep its invariants: available ≥ 0, held + sold
≤ on_hand, and the day counters add up to what was sold; and the shards together hold every unit
made, none twice."""

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
from chalicelib.stock.counters import Counter
from chalicelib.stock.ports import (
    BookedLine,
    Booking,
    BookingState,
    ContactDetails,
    IdempotencyRecord,
    KeyAlreadyUsed,
    OutOfStock,
    SlotClaim,
    StockRef,
)
from chalicelib.stock.shards import plan_moves, sale_order, slot_shards, split_take
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.client import dynamodb
from devtools.process import forget_process_state
from devtools.seed import ensure_table
from tests.conftest import TABLE, delivery

REF = StockRef("drop", 0, "TEE", "M", "paris")
SLOT = SlotClaim("paris", "2026-12-01T10:00:00Z", "2026-12-01T10:30:00Z", capacity=1_000)
START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class StockMachine(RuleBasedStateMachine):
    shards = 1
    bookings = Bundle("bookings")
    sales = Bundle("sales")

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        forget_process_state()
        ensure_table(dynamodb(), TABLE)
        DynamoCatalog(TABLE).put_stock_if_absent(REF, 4 * self.shards)
        self.now = START
        self.made = 4 * self.shards
        self.on_hand = {0: self.made}
        self.sold = {0: 0}
        self.holds: dict[str, tuple[int, int, int]] = {}  # id → (qty, expiry epoch, shard)
        self.booked: dict[str, int] = {}  # live bookings: code → qty
        self.applied_sales: set[str] = set()
        self.places = 0  # the slot's places taken: bookings, less those cancelled
        self.slot = replace(SLOT, shards=slot_shards(SLOT.capacity, self.shards))
        self._rebalance()

    def teardown(self) -> None:
        self.mock.stop()
        forget_process_state()

    # --- the model --------------------------------------------------------------------------

    def held(self, shard: int) -> int:
        return sum(qty for qty, _, on in self.holds.values() if on == shard)

    def available(self, shard: int) -> int:
        return self.on_hand[shard] - self.held(shard) - self.sold[shard]

    def can_take(self, qty: int) -> bool:
        return any(self.available(shard) >= qty for shard in self.on_hand)

    def _release_expired(self) -> int:
        cutoff = int(self.now.timestamp())
        expired = [hold for hold, (_, expiry, _) in self.holds.items() if expiry <= cutoff]
        return sum(self.holds.pop(hold)[0] for hold in expired)

    def _rebalance(self) -> None:
        moves = plan_moves({shard: self.available(shard) for shard in self.on_hand}, self.shards)
        assert wiring.stock().rebalance(REF.slug, REF.generation, self.shards) == sum(m.units for m in moves)
        for move in moves:
            self.on_hand[move.source] -= move.units
            self.on_hand[move.target] = self.on_hand.get(move.target, 0) + move.units
            self.sold.setdefault(move.target, 0)

    # --- rules ------------------------------------------------------------------------------

    @rule(qty=st.integers(1, 3), minutes=st.integers(1, 30))
    def hold(self, qty: int, minutes: int) -> None:
        hold_id = uuid.uuid4().hex[:8]
        expiry = self.now + timedelta(minutes=minutes)
        if not self.can_take(qty):
            self._release_expired()
        expect = self.can_take(qty)
        try:
            placed = wiring.stock().place_hold(REF, hold_id, qty, expiry, self.now, self.shards)
        except OutOfStock:
            assert not expect
            return
        assert expect
        assert self.available(placed.shard) >= qty
        self.holds[hold_id] = (qty, int(expiry.timestamp()), placed.shard)

    @rule(data=st.data())
    def release_hold(self, data: st.DataObject) -> None:
        if not self.holds:
            return
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        on = REF.on(self.holds[hold_id][2])
        assert wiring.stock().release_hold(on, hold_id) is True
        del self.holds[hold_id]
        assert wiring.stock().release_hold(on, hold_id) is False

    @rule(target=bookings, qty=st.integers(1, 3))
    def book(self, qty: int) -> dict[str, Any]:
        code, key = uuid.uuid4().hex[:8].upper(), uuid.uuid4().hex
        booking = self._booking(code, qty)
        expect = self.can_take(qty)
        try:
            placed = self._book(booking, key)
        except OutOfStock:
            assert not expect
            return {"booking": None, "key": key}
        assert expect
        shard = placed.items[0].shard
        assert self.available(shard) >= qty
        self.sold[shard] += qty
        self.booked[code] = qty
        self.places += 1
        return {"booking": placed, "key": key}

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
            self.sold[booking.items[0].shard] -= self.booked.pop(booking.code)
            self.places -= to is BookingState.CANCELLED  # a missed slot's place is not given back

    @rule(qty=st.integers(1, 5))
    def restock(self, qty: int) -> None:
        on_hand, _ = wiring.stock().restock(REF, qty, delivery)
        self.on_hand[0] += qty
        self.made += qty
        assert on_hand == self.made

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

    @rule()
    def rebalance(self) -> None:
        self._rebalance()

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def matches_the_model_and_keeps_its_invariants(self) -> None:
        items = wiring.stock().shard_items(REF)
        assert set(items) == set(self.on_hand)
        assert set(items) <= set(range(self.shards))
        for shard, item in items.items():
            assert (item["on_hand"], item["held"], item["sold"], item["available"]) == (
                self.on_hand[shard],
                self.held(shard),
                self.sold[shard],
                self.available(shard),
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
        assert sum(item["on_hand"] for item in items.values()) == self.made, "no unit made or lost"
        taken = wiring.bookings().slot_bookings(SLOT.popup, SLOT.start, SLOT.start)
        assert taken.get(SLOT.start, 0) == self.places
        applied = [sale for item in items.values() for sale in item.get("sale_ids", ())]
        assert set(applied) == self.applied_sales, "every sale applied (on each shard it took from)"

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

    def _book(self, booking: Booking, key: str) -> Booking:
        expires = int((self.now + timedelta(hours=24)).timestamp())
        record = IdempotencyRecord(key, "hash", {"code": booking.code}, expires)
        now_epoch = int(self.now.timestamp())
        return wiring.bookings().book(booking, self.slot, record, self.now.date(), now_epoch, shards=self.shards)

    def _sell(self, sale_id: str, qty: int) -> None:
        """A till sale: on one item it takes what that item has; on shards, from one or several."""
        if self.shards > 1:
            available = {shard: self.available(shard) for shard in self.on_hand}
            parts = split_take(available, qty, sale_order(sale_id, self.shards))
        else:
            parts = [(0, qty)] if self.available(0) >= qty else None
        outcome = wiring.stock().apply_till_sale(REF, sale_id, qty, 4100, self.now, "Europe/Paris", shards=self.shards)
        if sale_id in self.applied_sales:
            assert outcome == "duplicate"
        elif parts is not None:
            assert outcome == "applied"
            self.applied_sales.add(sale_id)
            for shard, units in parts:
                self.sold[shard] += units
        else:
            assert outcome == "out_of_stock"


class ShardedStockMachine(StockMachine):
    shards = 8


@pytest.mark.parametrize("machine", [StockMachine, ShardedStockMachine], ids=["N=1", "N=8"])
def test_stock_keeps_its_invariants_whatever_happens(machine: type[StockMachine]) -> None:
    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
