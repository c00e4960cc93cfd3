"""DynamoDB adapter for pickup bookings: one ``TransactWriteItems`` per change, all or nothing.

A booking takes each line's stock (conditioned on ``available``), one place in its slot (conditioned
on capacity), and puts the booking and its idempotency record (conditioned on neither existing).
Cancelling, picking up and missing a pickup move the booking out of ``booked`` with a condition on
that state, so each happens once, and change stock, slot and counters in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from random import SystemRandom
from typing import Any, NoReturn

from chalicelib.core.errors import Conflict
from chalicelib.core.models import Line, local_day
from chalicelib.outbox.ports import QueuedMessage
from chalicelib.stock.counters import Counter
from chalicelib.stock.ports import (
    NO_LIMITS,
    BookedLine,
    Booking,
    BookingLimits,
    BookingState,
    BudgetSpent,
    CodeTaken,
    ContactDetails,
    HeldUnits,
    HoldGone,
    HoldState,
    IdempotencyRecord,
    KeyAlreadyUsed,
    OutOfStock,
    Reserved,
    Shortage,
    SlotClaim,
    SlotFull,
    StockRef,
)
from chalicelib.stock.shards import even_shares, take_order
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute, from_item, to_item
from chalicelib.store.base import number, number_of
from chalicelib.store.client import add_counters, batch_items, index_items, paginate, transact
from chalicelib.store.outbox import queue_actions
from chalicelib.store.stock import ShardedStock, ref_key, shortage
from chalicelib.tryon.ports import FunnelStep, TryOnState

_places = SystemRandom()

# A transaction that meets another on the same item is cancelled with TransactionConflict; it is safe
# to run again, and almost always passes the second time.


def booking_fields(booking: Booking) -> dict[str, Any]:
    """A booking's attributes as stored (the pop-up's pickups index included by the caller)."""
    fields = asdict(booking)
    fields["state"] = booking.state.value
    left_at = fields.pop("left_at")
    if left_at is not None:
        fields[f"{booking.state.value}_at"] = left_at
    return fields


def booking_from_item(item: dict[str, Any]) -> Booking:
    state = BookingState(item["state"])
    return Booking(
        code=item["code"],
        drop=item["drop"],
        generation=item.get("generation", 0),
        popup=item["popup"],
        timezone=item["timezone"],
        slot_start=item["slot_start"],
        slot_end=item["slot_end"],
        items=tuple(BookedLine(**line) for line in item["items"]),
        total_minor=item["total_minor"],
        currency=item["currency"],
        contact=ContactDetails(**item["contact"]),
        visitor=item["visitor"],
        state=state,
        booked_at=item["booked_at"],
        numbers=item.get("numbers") or {},
        spend=item.get("spend") or {},
        left_at=None if state is BookingState.BOOKED else item.get(f"{state.value}_at"),
        locale=item.get("locale", "en"),
        customer=item.get("customer", ""),
        discounted_units=item.get("discounted_units", 0),
    )


def _reserved(raw: dict[str, Any]) -> Reserved:
    units: dict[tuple[str, str], int] = {}
    for name, value in raw.items():
        if name.startswith("units@"):
            sku, size = name.removeprefix("units@").split("#", 1)
            units[(sku, size)] = int(value["N"])
    return Reserved(units, number_of(raw, schema.DISCOUNTED_ATTRIBUTE))


def _condition_within(update: dict[str, Any], counts: Mapping[str, int], caps: Mapping[str, int]) -> None:
    """Make an ``add_counters(…, counts)`` update hold only if each capped counter stays at or under
    its cap after the addition (DynamoDB cannot add in a condition, so the room left is compared)."""
    conditions = []
    for i, (name, added) in enumerate(counts.items()):  # add_counters names them #c<i>, in this order
        if name in caps:
            update["ExpressionAttributeValues"][f":room{i}"] = number(caps[name] - added)
            conditions.append(f"(attribute_not_exists(#c{i}) OR #c{i} <= :room{i})")
    if conditions:
        update["ConditionExpression"] = " AND ".join(conditions)
        update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"


class DynamoBookings(ShardedStock):
    # --- reads ---------------------------------------------------------------------------------

    def idempotency_record(self, key: str, now_epoch: int) -> IdempotencyRecord | None:
        raw = self._read(schema.idempotency_key(key))
        if raw is None:
            return None
        item = from_item(raw)
        if item["expires_at"] <= now_epoch:
            return None  # DynamoDB may serve an expired item for up to 48 hours
        return IdempotencyRecord(key, item["request_hash"], json.loads(item["response"]), item["expires_at"])

    def booking(self, code: str) -> Booking | None:
        raw = self._read(schema.booking_key(code))
        return None if raw is None else booking_from_item(from_item(raw))

    def slot_bookings(self, popup: str, first: str, last: str) -> dict[str, int]:
        """Places taken per slot start, for slot starts in [first, last] (ISO UTC strings)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
            "ProjectionExpression": "#sk, booked",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#sk": schema.SK},
            "ExpressionAttributeValues": {
                ":pk": {"S": schema.slot_partition(popup)},
                ":first": {"S": first},
                ":last": {"S": last + "#~"},  # and the last start's shards
            },
        }
        taken: dict[str, int] = {}
        for item in paginate(self._call, "query", **kwargs):
            start = item[schema.SK]["S"].partition("#")[0]  # a sharded slot's items add up
            taken[start] = taken.get(start, 0) + number_of(item, "booked")
        return taken

    def popup_bookings(self, popup: str, first: str, last: str) -> list[Booking]:
        """The pop-up's bookings for slots starting in [first, last] (ISO UTC), in slot order."""
        partition = schema.pickups_index_partition(popup)
        items = index_items(
            self._call, self._table, partition, "#sk BETWEEN :first AND :last", {":first": first, ":last": last + "~"}
        )
        return [booking_from_item(item) for item in items]

    def reserved(self, slug: str, customer: str, visitor: str) -> Reserved:
        """What the customer and the visitor have booked of the drop (the larger count of each)."""
        keys = [schema.visitor_ledger_key(visitor, slug)]
        if customer:
            keys.append(schema.customer_ledger_key(customer, slug))
        found = Reserved()
        for raw in batch_items(self._call, self._table, keys, ConsistentRead=True).values():
            found = found.most(_reserved(raw))
        return found

    # --- writes --------------------------------------------------------------------------------

    def book(
        self,
        booking: Booking,
        slot: SlotClaim,
        record: IdempotencyRecord,
        day: date,
        now_epoch: int,
        held: HeldUnits | None = None,
        messages: tuple[QueuedMessage, ...] = (),
        limits: BookingLimits = NO_LIMITS,
        shards: int = 1,
    ) -> Booking:
        """Reserve the booking's stock and a place in the slot, put the booking and its idempotency
        record, and queue its ``messages`` (the outbox): all of it or none. ``held`` units (a
        checkout hold or a try-on the visitor owns) become the booking's first, and their hold ends
        in the same transaction. The customer's and the visitor's counts and the cohort budgets are
        taken in it too, each conditioned on its ``limits``. A line not held takes one of its size's
        ``shards`` that a consistent read found with the units, and the next if a race emptied it; a
        held line stays on its hold's shard. Returns the booking as stored (each line's shard).
        Raises OutOfStock, SlotFull, HoldGone, CustomerLimit, DiscountLimit, BudgetSpent,
        KeyAlreadyUsed or CodeTaken."""
        alone = limits.refusal(Reserved(), booking.reserved)  # past a limit on its own: no condition could hold
        if alone is not None:
            raise alone
        try:
            orders = self._line_shards(booking, now_epoch, held, shards)
            places = self._slot_order(slot)
        except (OutOfStock, SlotFull):  # unless a twin request took the last ones: then it answers for both
            if self.idempotency_record(record.key, now_epoch) is not None:
                raise KeyAlreadyUsed(record.key) from None
            raise
        placed = _on_shards(booking, orders, places)
        self._fail_fast(placed, slot, record.key, now_epoch, held, last_stock=shards <= 1, last_place=len(places) <= 1)
        while True:
            actions, roles = self._booking_actions(placed, slot, record, day, now_epoch, held, messages, limits)
            reasons = transact(self._call, actions, "booking")
            if reasons is None:
                return placed
            failed = [i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
            short = [placed.lines.index(role) for role in (roles[i] for i in failed) if isinstance(role, Line)]
            slot_lost = any(roles[i] == "slot" for i in failed)
            from_hold = any(held and held.qty(placed.lines[i].sku, placed.lines[i].size) for i in short)
            raced = len(short) + slot_lost == len(failed) and not from_hold  # only shards lost a race
            if raced and slot_lost and len(places) <= 1 and shards > 1:  # the stock may be on other shards:
                raise SlotFull("That pickup slot is full. Please choose another.", details={"slot_start": slot.start})
            if not raced or (short and shards <= 1) or (slot_lost and len(places) <= 1):
                self._refuse(placed, slot, record, now_epoch, held, limits, roles, reasons)
            tried = [(placed.ref(placed.lines[i]), placed.lines[i].qty) for i in short]
            lost = [reasons[i].get("Item") for i in failed if isinstance(roles[i], Line)]
            self._next_shards(orders, short, tried, lost, shards, now_epoch)
            if slot_lost:
                places.pop(0)
            placed = _on_shards(booking, orders, places)

    def _slot_order(self, slot: SlotClaim) -> list[int]:
        """The slot's items to try for a place, in order: shard 0 of an unsharded slot (its
        condition decides); else, from one consistent Query of its items, those below their share
        of the places, at random. SlotFull when the slot's items together are full (also for
        places booked on items of an earlier, larger split)."""
        if slot.shards <= 1:
            return [0]
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :start)",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#sk": schema.SK},
            "ExpressionAttributeValues": {":pk": {"S": schema.slot_partition(slot.popup)}, ":start": {"S": slot.start}},
            "ConsistentRead": True,
        }
        booked = {
            _slot_shard(raw[schema.SK]["S"]): number_of(raw, "booked")
            for raw in paginate(self._call, "query", **kwargs)
        }
        caps = even_shares(slot.capacity, slot.shards)
        if sum(booked.values()) < slot.capacity:
            order = take_order({k: caps[k] - booked.get(k, 0) for k in range(slot.shards)}, 1, _places)
            if order:
                return order
        raise SlotFull("That pickup slot is full. Please choose another.", details={"slot_start": slot.start})

    def _line_shards(self, booking: Booking, now_epoch: int, held: HeldUnits | None, shards: int) -> list[list[int]]:
        """The shards each line tries, in order: a held line its hold's; the others ``shards_to_try``
        (OutOfStock for a size none of whose shards has the units)."""
        fixed = {
            (line.sku, line.size): [held.shard(line.sku, line.size)]
            for line in booking.lines
            if held is not None and held.qty(line.sku, line.size)
        }
        loose = [(booking.ref(line), line.qty) for line in booking.lines if (line.sku, line.size) not in fixed]
        found = iter(self._take_orders(loose, shards, datetime.fromtimestamp(now_epoch, UTC)))
        return [fixed.get((line.sku, line.size)) or next(found) for line in booking.lines]

    def _booking_actions(
        self,
        booking: Booking,
        slot: SlotClaim,
        record: IdempotencyRecord,
        day: date,
        now_epoch: int,
        held: HeldUnits | None,
        messages: tuple[QueuedMessage, ...],
        limits: BookingLimits,
    ) -> tuple[list[dict[str, Any]], list[Line | str]]:
        """The booking's transaction, and what each action is (to tell which condition failed)."""
        slug, popup, lines = booking.drop, booking.popup, booking.lines
        actions: list[dict[str, Any]] = []
        roles: list[Line | str] = []  # what each action is, to tell which condition failed
        for line in lines:
            from_hold = (held.hold_id, held.qty(line.sku, line.size), now_epoch) if held else None
            actions.append(
                self._stock_change(
                    booking.ref(line), line, sold=line.qty, counter=Counter.BOOKED, day=day, from_hold=from_hold
                )
            )
            roles.append(line)
        if held is not None:
            booked = {(line.sku, line.size) for line in lines}
            for line in held.lines:
                if (line.sku, line.size) not in booked:  # held but not booked: given back with the rest
                    given_back = booking.ref(line).on(held.shard(line.sku, line.size))
                    actions.append(self._hold_given_back(given_back, line, held.hold_id))
                    roles.append("hold")
            actions.append(self._end_hold(booking, held, now_epoch))
            roles.append("hold")
            if held.source == "tryon":
                steps = {FunnelStep.TRYON_COMPLETED: 1, FunnelStep.BOOKED_AFTER_TRYON: 1}
                at = local_day(booking.timezone, datetime.fromisoformat(booking.booked_at))
                counts = {counter_attribute(step, at): n for step, n in steps.items()}
                funnel = schema.funnel_key(slug, held.lines[0].sku, popup)
                actions.append({"Update": add_counters(self._table, funnel, counts)})
                roles.append("funnel")
        actions.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": schema.slot_key(slot.popup, slot.start, booking.slot_shard),
                    "UpdateExpression": (
                        "SET booked = if_not_exists(booked, :zero) + :one, #capacity = :cap, slot_end = :end"
                    ),
                    "ConditionExpression": "attribute_not_exists(booked) OR booked < :cap",
                    "ExpressionAttributeNames": {"#capacity": "capacity"},
                    "ExpressionAttributeValues": {
                        ":zero": number(0),
                        ":one": number(1),
                        ":cap": number(_slot_places(slot, booking.slot_shard)),
                        ":end": {"S": slot.end},
                    },
                }
            }
        )
        roles.append("slot")
        for action in self._spend_change(slug, booking.spend, sign=1, budgets=limits.budgets):
            actions.append(action)
            roles.append("spend")
        for action in self._ledger_changes(booking, sign=1, limits=limits):
            actions.append(action)
            roles.append("ledger")
        if booking.numbers:
            actions.append({"Update": add_counters(self._table, schema.numbers_key(slug), booking.numbers)})
            roles.append("numbers")
        indexed = {
            **booking_fields(booking),
            schema.GSI1_PK: schema.pickups_index_partition(popup),
            schema.GSI1_SK: f"{slot.start}#{booking.code}",
        }
        actions.append(self._put_new(schema.booking_key(booking.code), indexed))
        roles.append("booking")
        for message in messages:
            queued = queue_actions(self._table, message)
            actions += queued
            roles += ["outbox"] * len(queued)
        actions.append(
            self._put_new(
                schema.idempotency_key(record.key),
                {
                    "request_hash": record.request_hash,
                    "response": json.dumps(record.response, separators=(",", ":")),
                    "code": booking.code,
                    schema.TTL_ATTRIBUTE: record.expires_at,
                },
                expired_before=now_epoch,
            )
        )
        roles.append("idempotency")
        return actions, roles

    def _refuse(
        self,
        booking: Booking,
        slot: SlotClaim,
        record: IdempotencyRecord,
        now_epoch: int,
        held: HeldUnits | None,
        limits: BookingLimits,
        roles: list[Line | str],
        reasons: list[dict[str, Any]],
    ) -> NoReturn:
        """Raise the refusal a cancelled booking transaction stands for, most telling first."""
        failed = [i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
        failed_roles = {roles[i] for i in failed if isinstance(roles[i], str)}
        failed_lines = [(roles[i], reasons[i].get("Item")) for i in failed if isinstance(roles[i], Line)]
        if "idempotency" in failed_roles:
            raise KeyAlreadyUsed(record.key)
        if "booking" in failed_roles or "outbox" in failed_roles:  # message ids are made of the code
            raise CodeTaken(booking.code)
        if "ledger" in failed_roles:
            raise self._ledger_refusal(
                booking, limits, [reasons[i].get("Item") for i in failed if roles[i] == "ledger"]
            )
        if "spend" in failed_roles:
            raise BudgetSpent()
        if held is not None and (
            "hold" in failed_roles
            or any(
                isinstance(line, Line) and held.qty(line.sku, line.size) and _hold_lapsed(item, held, now_epoch)
                for line, item in failed_lines
            )
        ):
            raise HoldGone(held.hold_id)
        shortages = [
            _shortage(line, item, now_epoch, held.qty(line.sku, line.size) if held else 0)
            for line, item in failed_lines
            if isinstance(line, Line)
        ]
        if any(shortages):
            raise OutOfStock(s for s in shortages if s is not None)
        raise SlotFull("That pickup slot is full. Please choose another.", details={"slot_start": slot.start})

    def leave_booked(
        self, booking: Booking, to: BookingState, at_iso: str, day: date, messages: tuple[QueuedMessage, ...] = ()
    ) -> bool:
        """Move a booking from ``booked`` to ``to`` with its stock and slot changes, and queue its
        ``messages``; False if it was no longer ``booked`` (someone else moved it first)."""
        slug, popup, lines = booking.drop, booking.popup, booking.lines
        counter, returned = {
            BookingState.CANCELLED: (Counter.CANCELLED, True),
            BookingState.NO_SHOW: (Counter.NO_SHOW, True),
            BookingState.PICKED_UP: (Counter.PICKED_UP, False),
        }[to]
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": schema.booking_key(booking.code),
                    "UpdateExpression": "SET #state = :to, #at = :at",
                    "ConditionExpression": "#state = :booked",
                    "ExpressionAttributeNames": {"#state": "state", "#at": f"{to.value}_at"},
                    "ExpressionAttributeValues": {
                        ":to": {"S": to.value},
                        ":booked": {"S": BookingState.BOOKED.value},
                        ":at": {"S": at_iso},
                    },
                }
            }
        ]
        actions += [
            self._stock_change(booking.ref(line), line, sold=-line.qty if returned else 0, counter=counter, day=day)
            for line in lines
        ]
        if returned:
            actions += self._spend_change(slug, booking.spend, sign=-1)
            actions += self._ledger_changes(booking, sign=-1)
        if to is BookingState.CANCELLED:  # a missed slot has passed: its place is not given back
            actions.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": schema.slot_key(popup, booking.slot_start, booking.slot_shard),
                        "UpdateExpression": "SET booked = booked - :one",
                        "ConditionExpression": "booked >= :one",
                        "ExpressionAttributeValues": {":one": number(1)},
                    }
                }
            )
        for message in messages:
            actions += queue_actions(self._table, message)
        return transact(self._call, actions, "booking") is None

    def _fail_fast(
        self,
        booking: Booking,
        slot: SlotClaim,
        key: str,
        now_epoch: int,
        held: HeldUnits | None,
        *,
        last_stock: bool,
        last_place: bool,
    ) -> None:
        """Refuse without a transaction when a consistent read already shows the idempotency key
        used (a twin request got there first), the hold lapsed, or the stock or the slot gone: after a
        sell-out most buyers land here, and a read costs a fraction of a transaction. A chosen shard
        found empty refuses only when it was the ``last_stock`` (or ``last_place``) choice: other
        shards may still have some, and the transaction's retries go there. Passing it proves
        nothing; the transaction's conditions decide."""
        idempotency = schema.idempotency_key(key)
        lines = booking.lines
        keys = [ref_key(booking.ref(line)) for line in lines]
        keys += [schema.slot_key(booking.popup, slot.start, booking.slot_shard), idempotency]
        found = batch_items(
            self._call,
            self._table,
            keys,
            ConsistentRead=True,
            ProjectionExpression="#pk, #sk, available, booked, holds, #ttl",
            ExpressionAttributeNames={"#pk": schema.PK, "#sk": schema.SK, "#ttl": schema.TTL_ATTRIBUTE},
        )
        used = found.get(schema.key_of(idempotency))
        if used is not None and int(used[schema.TTL_ATTRIBUTE]["N"]) > now_epoch:
            raise KeyAlreadyUsed(key)
        stock = [(line, found.get(schema.key_of(k))) for line, k in zip(lines, keys, strict=False)]
        if held is not None and any(
            held.qty(line.sku, line.size) and _hold_lapsed(raw, held, now_epoch) for line, raw in stock
        ):
            raise HoldGone(held.hold_id)
        shortages = [
            _shortage(line, raw, now_epoch, held.qty(line.sku, line.size) if held else 0) for line, raw in stock
        ]
        if last_stock and any(shortages):
            raise OutOfStock(s for s in shortages if s is not None)
        slot_item = found.get((keys[-2][schema.PK]["S"], keys[-2][schema.SK]["S"]))
        if last_place and slot_item and number_of(slot_item, "booked") >= _slot_places(slot, booking.slot_shard):
            raise SlotFull("That pickup slot is full. Please choose another.", details={"slot_start": slot.start})

    # --- pieces --------------------------------------------------------------------------------

    def _stock_change(
        self,
        ref: StockRef,
        line: Line,
        *,
        sold: int,
        counter: Counter,
        day: date,
        from_hold: tuple[str, int, int] | None = None,
    ) -> dict[str, Any]:
        """Sell (``sold`` > 0, only if available), return (< 0) or just count (0) a line's units.
        ``from_hold`` (hold id, units it holds here, now) sells the held units first: the hold leaves
        the item, ``held`` drops by its units and only the rest is taken from ``available``."""
        names = {"#counter": counter_attribute(counter, day)}
        values = {":zero": number(0), ":count": number(line.qty)}
        expression = "SET #counter = if_not_exists(#counter, :zero) + :count"
        condition = "attribute_exists(pk)"
        held = from_hold[1] if from_hold else 0
        extra = sold - held  # what comes from available (negative: held units not booked go back)
        if sold:
            values[":sold"] = number(sold)
            expression += ", sold = sold + :sold"
            if extra:
                values[":extra"] = number(extra)
                expression += ", available = available - :extra"
            if extra > 0:
                condition += " AND available >= :extra"
        if from_hold and held:
            hold_id, _, now_epoch = from_hold
            names["#h"] = hold_id
            values[":hq"] = number(held)
            values[":now"] = number(now_epoch)
            expression += ", held = held - :hq REMOVE holds.#h"
            condition += " AND holds.#h.q = :hq AND holds.#h.exp > :now"
        return {
            "Update": {
                "TableName": self._table,
                "Key": ref_key(ref),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _hold_given_back(self, ref: StockRef, line: Line, hold_id: str) -> dict[str, Any]:
        """A held line the booking did not take: its units go back on sale in the same transaction."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": ref_key(ref),
                "UpdateExpression": "SET held = held - :q, available = available + :q REMOVE holds.#h",
                "ConditionExpression": "holds.#h.q = :q",
                "ExpressionAttributeNames": {"#h": hold_id},
                "ExpressionAttributeValues": {":q": number(line.qty)},
            }
        }

    def _end_hold(self, booking: Booking, held: HeldUnits, now_epoch: int) -> dict[str, Any]:
        """The hold's record, moved to its end in the booking's transaction: only its own visitor's,
        only once, only while live."""
        values: dict[str, Any] = {
            ":code": {"S": booking.code},
            ":visitor": {"S": held.visitor},
            ":now": number(now_epoch),
            ":at": {"S": booking.booked_at},
        }
        names = {"#state": "state", "#visitor": "visitor"}
        if held.source == "hold":
            key = schema.checkout_hold_key(held.hold_id)
            values |= {":to": {"S": HoldState.BOOKED.value}, ":held": {"S": HoldState.HELD.value}}
            condition = "#state = :held AND #visitor = :visitor AND hold_expires_at > :now"
            expression = "SET #state = :to, booking = :code, booked_at = :at"
        else:
            key = schema.tryon_key(held.hold_id)
            values |= {
                ":to": {"S": TryOnState.COMPLETED.value},
                ":waiting": {"S": TryOnState.WAITING.value},
                ":called": {"S": TryOnState.CALLED.value},
            }
            condition = (
                "#state IN (:waiting, :called) AND #visitor = :visitor AND hold_expires_at > :now "
                "AND attribute_not_exists(booking)"
            )
            expression = "SET #state = :to, booking = :code, completed_at = :at"
        return {
            "Update": {
                "TableName": self._table,
                "Key": key,
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _spend_change(
        self, slug: str, spend: Mapping[str, int], *, sign: int, budgets: Mapping[str, int] | None = None
    ) -> list[dict[str, Any]]:
        """Charge (or give back) what a booking's discounts took from cohort budgets; a charge to a
        budgeted name holds only if it stays within its budget."""
        if not spend:
            return []
        given = {name: sign * amount for name, amount in spend.items()}
        update = add_counters(self._table, schema.spend_key(slug), given)
        caps = {name: budgets[name] for name in given if budgets and name in budgets}
        if any(given[name] > cap for name, cap in caps.items()):
            raise BudgetSpent()
        _condition_within(update, given, caps)
        return [{"Update": update}]

    def _ledger_changes(
        self, booking: Booking, *, sign: int, limits: BookingLimits | None = None
    ) -> list[dict[str, Any]]:
        """Count (or give back) the booking's units and discounted units on its customer's and its
        visitor's ledgers; with ``limits``, each count holds only if it stays within its limit."""
        reserved = booking.reserved
        counts = {schema.units_attribute(sku, size): sign * qty for (sku, size), qty in reserved.units.items()}
        if reserved.discounted:
            counts[schema.DISCOUNTED_ATTRIBUTE] = sign * reserved.discounted
        caps: dict[str, int] = {}
        if limits is not None:
            if limits.units_per_size:
                caps = {name: limits.units_per_size for name in counts if name != schema.DISCOUNTED_ATTRIBUTE}
            if limits.discounted_units is not None and schema.DISCOUNTED_ATTRIBUTE in counts:
                caps[schema.DISCOUNTED_ATTRIBUTE] = limits.discounted_units
        keys = [schema.visitor_ledger_key(booking.visitor, booking.drop)]
        if booking.customer:
            keys.append(schema.customer_ledger_key(booking.customer, booking.drop))
        actions = []
        for key in keys:
            update = add_counters(self._table, key, counts)
            _condition_within(update, counts, caps)
            actions.append({"Update": update})
        return actions

    def _ledger_refusal(
        self, booking: Booking, limits: BookingLimits, old_items: list[dict[str, Any] | None]
    ) -> Conflict:
        """Which limit a failed ledger condition stood for, from the ledgers as they were (or, from an
        engine that does not return them, as they are now)."""
        if all(old_items):
            before = Reserved()
            for raw in old_items:
                before = before.most(_reserved(raw or {}))
        else:
            before = self.reserved(booking.drop, booking.customer, booking.visitor)
        refused = limits.refusal(before, booking.reserved)
        if refused is not None:
            return refused
        return Conflict("Your earlier bookings changed meanwhile. Please try again.", code="limits_changed")

    def _put_new(
        self, key: dict[str, dict[str, str]], fields: dict[str, Any], *, expired_before: int | None = None
    ) -> dict[str, Any]:
        """A put that fails if the item exists (unless it had expired before ``expired_before``, for
        records TTL has not deleted yet)."""
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": {**key, **to_item(fields)},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": schema.PK},
        }
        if expired_before is not None:
            put["ConditionExpression"] += " OR #ttl < :now"
            put["ExpressionAttributeNames"]["#ttl"] = schema.TTL_ATTRIBUTE
            put["ExpressionAttributeValues"] = {":now": number(expired_before)}
        return {"Put": put}


def _on_shards(booking: Booking, orders: list[list[int]], places: list[int]) -> Booking:
    """The booking with each line on the first shard of its order, and its place on the slot's first."""
    items = tuple(replace(item, shard=order[0]) for item, order in zip(booking.items, orders, strict=True))
    return replace(booking, items=items, slot_shard=places[0])


def _slot_shard(sort_key: str) -> int:
    _, _, shard = sort_key.partition("#s")
    return int(shard) if shard else 0


def _slot_places(slot: SlotClaim, shard: int) -> int:
    """The places one of the slot's items takes: its share of the capacity."""
    return even_shares(slot.capacity, slot.shards)[shard] if slot.shards > 1 else slot.capacity


def _shortage(line: Line, raw: dict[str, Any] | None, now_epoch: int, held: int = 0) -> Shortage | None:
    """What a stock item (raw, as read) lacks for ``line``, of which ``held`` units are the booking's
    own hold; None if it has enough."""
    if raw is not None and number_of(raw, "available") + held >= line.qty:
        return None
    return shortage(line.sku, line.size, line.qty - held, from_item(raw) if raw else {}, now_epoch)


def _hold_lapsed(raw: dict[str, Any] | None, held: HeldUnits, now_epoch: int) -> bool:
    """Whether a stock item (raw) no longer holds the units for ``held``'s hold."""
    hold = ((raw or {}).get("holds") or {}).get("M", {}).get(held.hold_id)
    return hold is None or int(hold["M"]["exp"]["N"]) <= now_epoch
