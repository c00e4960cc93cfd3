"""DynamoDB adapter for pickup bookings: one ``TransactWriteItems`` per change, all or nothing.

A booking takes each line's stock (conditioned on ``available``), one place in its slot (conditioned
on capacity), and puts the booking and its idempotency record (conditioned on neither existing).
Cancelling, picking up and missing a pickup move the booking out of ``booked`` with a condition on
that state, so each happens once, and change stock, slot and counters in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from chalicelib.core.models import Line
from chalicelib.stock.ports import (
    BookedLine,
    Booking,
    BookingState,
    CodeTaken,
    ContactDetails,
    Counter,
    IdempotencyRecord,
    KeyAlreadyUsed,
    OutOfStock,
    Shortage,
    SlotClaim,
    SlotFull,
)
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute, from_item, to_item
from chalicelib.store.base import DynamoAdapter, number, number_of
from chalicelib.store.client import add_counters, index_items, paginate, transact
from chalicelib.store.stock import shortage

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
    )


class DynamoBookings(DynamoAdapter):
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
                ":last": {"S": last},
            },
        }
        return {item[schema.SK]["S"]: number_of(item, "booked") for item in paginate(self._call, "query", **kwargs)}

    def popup_bookings(self, popup: str, first: str, last: str) -> list[Booking]:
        """The pop-up's bookings for slots starting in [first, last] (ISO UTC), in slot order."""
        partition = schema.pickups_index_partition(popup)
        items = index_items(
            self._call, self._table, partition, "#sk BETWEEN :first AND :last", {":first": first, ":last": last + "~"}
        )
        return [booking_from_item(item) for item in items]

    # --- writes --------------------------------------------------------------------------------

    def book(self, booking: Booking, slot: SlotClaim, record: IdempotencyRecord, day: date, now_epoch: int) -> None:
        """Reserve the booking's stock and a place in the slot, and put the booking and its idempotency
        record: all of it or none. Raises OutOfStock, SlotFull, KeyAlreadyUsed or CodeTaken."""
        slug, popup, lines = booking.drop, booking.popup, booking.lines
        self._fail_fast(slug, popup, lines, slot, record.key, now_epoch)
        actions = [
            self._stock_change(slug, popup, line, sold=line.qty, counter=Counter.BOOKED, day=day) for line in lines
        ]
        actions.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": schema.slot_key(slot.popup, slot.start),
                    "UpdateExpression": (
                        "SET booked = if_not_exists(booked, :zero) + :one, #capacity = :cap, slot_end = :end"
                    ),
                    "ConditionExpression": "attribute_not_exists(booked) OR booked < :cap",
                    "ExpressionAttributeNames": {"#capacity": "capacity"},
                    "ExpressionAttributeValues": {
                        ":zero": number(0),
                        ":one": number(1),
                        ":cap": number(slot.capacity),
                        ":end": {"S": slot.end},
                    },
                }
            }
        )
        actions += self._spend_change(slug, booking.spend, sign=1)
        if booking.numbers:
            actions.append({"Update": add_counters(self._table, schema.numbers_key(slug), booking.numbers)})
        indexed = {
            **booking_fields(booking),
            schema.GSI1_PK: schema.pickups_index_partition(popup),
            schema.GSI1_SK: f"{slot.start}#{booking.code}",
        }
        actions.append(self._put_new(schema.booking_key(booking.code), indexed))
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
        reasons = transact(self._call, actions, "booking")
        if reasons is None:
            return
        failed = [reason.get("Code") == "ConditionalCheckFailed" for reason in reasons]
        if failed[-1]:
            raise KeyAlreadyUsed(record.key)
        if failed[-2]:
            raise CodeTaken(booking.code)
        shortages = [
            _shortage(line, reason.get("Item"), now_epoch)
            for line, reason, no in zip(lines, reasons, failed, strict=False)
            if no
        ]
        if any(shortages):
            raise OutOfStock(s for s in shortages if s is not None)
        raise SlotFull("That pickup slot is full. Please choose another.", details={"slot_start": slot.start})

    def leave_booked(self, booking: Booking, to: BookingState, at_iso: str, day: date) -> bool:
        """Move a booking from ``booked`` to ``to`` with its stock and slot changes; False if it was
        no longer ``booked`` (someone else moved it first)."""
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
            self._stock_change(slug, popup, line, sold=-line.qty if returned else 0, counter=counter, day=day)
            for line in lines
        ]
        if returned:
            actions += self._spend_change(slug, booking.spend, sign=-1)
        if to is BookingState.CANCELLED:  # a missed slot has passed: its place is not given back
            actions.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": schema.slot_key(popup, booking.slot_start),
                        "UpdateExpression": "SET booked = booked - :one",
                        "ConditionExpression": "booked >= :one",
                        "ExpressionAttributeValues": {":one": number(1)},
                    }
                }
            )
        return transact(self._call, actions, "booking") is None

    def _fail_fast(
        self, slug: str, popup: str, lines: tuple[Line, ...], slot: SlotClaim, key: str, now_epoch: int
    ) -> None:
        """Refuse without a transaction when a consistent read already shows the idempotency key
        used (a twin request got there first), or the stock or the slot gone: after a sell-out most
        buyers land here, and a read costs a fraction of a transaction. Passing it proves nothing;
        the transaction's conditions decide."""
        idempotency = schema.idempotency_key(key)
        keys = [schema.stock_key(slug, line.sku, line.size, popup) for line in lines]
        keys += [schema.slot_key(popup, slot.start), idempotency]
        found: dict[tuple[str, str], dict[str, Any]] = {}
        request: dict[str, Any] = {
            self._table: {
                "Keys": keys,
                "ConsistentRead": True,
                "ProjectionExpression": "#pk, #sk, available, booked, holds, #ttl",
                "ExpressionAttributeNames": {"#pk": schema.PK, "#sk": schema.SK, "#ttl": schema.TTL_ATTRIBUTE},
            }
        }
        while request:
            page = self._call("batch_get_item", RequestItems=request)
            for raw in page.get("Responses", {}).get(self._table, []):
                found[(raw[schema.PK]["S"], raw[schema.SK]["S"])] = raw
            request = page.get("UnprocessedKeys") or {}
        used = found.get((idempotency[schema.PK]["S"], idempotency[schema.SK]["S"]))
        if used is not None and int(used[schema.TTL_ATTRIBUTE]["N"]) > now_epoch:
            raise KeyAlreadyUsed(key)
        shortages = [
            _shortage(line, found.get((stock[schema.PK]["S"], stock[schema.SK]["S"])), now_epoch)
            for line, stock in zip(lines, keys, strict=False)
        ]
        if any(shortages):
            raise OutOfStock(s for s in shortages if s is not None)
        slot_item = found.get((keys[-2][schema.PK]["S"], keys[-2][schema.SK]["S"]))
        if slot_item and number_of(slot_item, "booked") >= slot.capacity:
            raise SlotFull("That pickup slot is full. Please choose another.", details={"slot_start": slot.start})

    # --- pieces --------------------------------------------------------------------------------

    def _stock_change(
        self, slug: str, location: str, line: Line, *, sold: int, counter: Counter, day: date
    ) -> dict[str, Any]:
        """Sell (``sold`` > 0, only if available), return (< 0) or just count (0) a line's units."""
        names = {"#counter": counter_attribute(counter, day)}
        values = {":zero": number(0), ":count": number(line.qty)}
        expression = "SET #counter = if_not_exists(#counter, :zero) + :count"
        condition = "attribute_exists(pk)"
        if sold:
            values[":sold"] = number(sold)
            expression += ", sold = sold + :sold, available = available - :sold"
            if sold > 0:
                condition += " AND available >= :sold"
        return {
            "Update": {
                "TableName": self._table,
                "Key": schema.stock_key(slug, line.sku, line.size, location),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _spend_change(self, slug: str, spend: Mapping[str, int], *, sign: int) -> list[dict[str, Any]]:
        """Charge (or give back) what a booking's discounts took from cohort budgets."""
        if not spend:
            return []
        given = {name: sign * amount for name, amount in spend.items()}
        return [{"Update": add_counters(self._table, schema.spend_key(slug), given)}]

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


def _shortage(line: Line, raw: dict[str, Any] | None, now_epoch: int) -> Shortage | None:
    """What a stock item (raw, as read) lacks for ``line``; None if it has enough."""
    if raw is not None and number_of(raw, "available") >= line.qty:
        return None
    return shortage(line.sku, line.size, line.qty, from_item(raw) if raw else {}, now_epoch)
