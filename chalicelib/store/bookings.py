"""DynamoDB adapter for pickup bookings: one ``TransactWriteItems`` per change, all or nothing.

A booking takes each line's stock (conditioned on ``available``), one place in its slot (conditioned
on capacity), and puts the booking and its idempotency record (conditioned on neither existing).
Cancelling, picking up and missing a pickup move the booking out of ``booked`` with a condition on
that state, so each happens once, and change stock, slot and counters in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.inventory import (
    BookingState,
    Counter,
    Line,
    OutOfStock,
    Shortage,
    SlotFull,
    counter_attribute,
)
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.client import Call, add_counters, call, index_items, paginate, read_item, transact

# A transaction that meets another on the same item is cancelled with TransactionConflict; it is safe
# to run again, and almost always passes the second time.


class KeyAlreadyUsed(Exception):
    """The idempotency key already has a record: answer from it."""


class CodeTaken(Exception):
    """The booking code is in use (a 1 in 10^11 draw): pick another."""


@dataclass(frozen=True)
class SlotClaim:
    popup: str
    start: str  # ISO 8601 UTC, the slot item's sort key
    end: str
    capacity: int


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    request_hash: str
    response: dict[str, Any]  # the 201 answer the first request got
    expires_at: int  # epoch seconds (the table's TTL attribute; readers check it too)


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


class DynamoBookings:
    def __init__(self, table_name: str, call: Call = call) -> None:
        self._table = table_name
        self._call = call

    # --- reads ---------------------------------------------------------------------------------

    def idempotency_record(self, key: str, now_epoch: int) -> IdempotencyRecord | None:
        raw = read_item(self._call, self._table, schema.idempotency_key(key))
        if raw is None:
            return None
        item = from_item(raw)
        if item["expires_at"] <= now_epoch:
            return None  # DynamoDB may serve an expired item for up to 48 hours
        return IdempotencyRecord(key, item["request_hash"], json.loads(item["response"]), item["expires_at"])

    def booking(self, code: str) -> dict[str, Any] | None:
        raw = read_item(self._call, self._table, schema.booking_key(code))
        return None if raw is None else from_item(raw)

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
        return {item[schema.SK]["S"]: int(item["booked"]["N"]) for item in paginate(self._call, "query", **kwargs)}

    def popup_bookings(self, popup: str, first: str, last: str) -> list[dict[str, Any]]:
        """The pop-up's bookings for slots starting in [first, last] (ISO UTC), in slot order."""
        partition = schema.pickups_index_partition(popup)
        return index_items(
            self._call, self._table, partition, "#sk BETWEEN :first AND :last", {":first": first, ":last": last + "~"}
        )

    # --- writes --------------------------------------------------------------------------------

    def book(
        self,
        booking: dict[str, Any],
        lines: tuple[Line, ...],
        slot: SlotClaim,
        record: IdempotencyRecord,
        day: date,
        now_epoch: int,
    ) -> None:
        """Reserve the lines' stock and a place in the slot, and put the booking and its idempotency
        record: all of it or none. Raises OutOfStock, SlotFull, KeyAlreadyUsed or CodeTaken."""
        slug, popup = booking["drop"], booking["popup"]
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
                        ":zero": _n(0),
                        ":one": _n(1),
                        ":cap": _n(slot.capacity),
                        ":end": {"S": slot.end},
                    },
                }
            }
        )
        actions += self._spend_change(slug, booking.get("spend") or {}, sign=1)
        if booking.get("numbers"):
            actions.append({"Update": add_counters(self._table, schema.numbers_key(slug), booking["numbers"])})
        indexed = {
            **booking,
            schema.GSI1_PK: schema.pickups_index_partition(popup),
            schema.GSI1_SK: f"{slot.start}#{booking['code']}",
        }
        actions.append(self._put_new(schema.booking_key(booking["code"]), indexed))
        actions.append(
            self._put_new(
                schema.idempotency_key(record.key),
                {
                    "request_hash": record.request_hash,
                    "response": json.dumps(record.response, separators=(",", ":")),
                    "code": booking["code"],
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
            raise CodeTaken(booking["code"])
        shortages = [
            _shortage(line, reason.get("Item"), now_epoch)
            for line, reason, no in zip(lines, reasons, failed, strict=False)
            if no
        ]
        if any(shortages):
            raise OutOfStock(s for s in shortages if s is not None)
        raise SlotFull("That pickup slot is full. Please choose another.", details={"slot_start": slot.start})

    def leave_booked(self, booking: dict[str, Any], to: BookingState, at_iso: str, day: date) -> bool:
        """Move a booking from ``booked`` to ``to`` with its stock and slot changes; False if it was
        no longer ``booked`` (someone else moved it first)."""
        slug, popup = booking["drop"], booking["popup"]
        lines = [Line(item["sku"], item["size"], item["qty"]) for item in booking["items"]]
        counter, returned = {
            BookingState.CANCELLED: (Counter.CANCELLED, True),
            BookingState.NO_SHOW: (Counter.NO_SHOW, True),
            BookingState.PICKED_UP: (Counter.PICKED_UP, False),
        }[to]
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": schema.booking_key(booking["code"]),
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
            actions += self._spend_change(slug, booking.get("spend") or {}, sign=-1)
        if to is BookingState.CANCELLED:  # a missed slot has passed: its place is not given back
            actions.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": schema.slot_key(popup, booking["slot_start"]),
                        "UpdateExpression": "SET booked = booked - :one",
                        "ConditionExpression": "booked >= :one",
                        "ExpressionAttributeValues": {":one": _n(1)},
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
        if slot_item and int(slot_item["booked"]["N"]) >= slot.capacity:
            raise SlotFull("That pickup slot is full. Please choose another.", details={"slot_start": slot.start})

    # --- pieces --------------------------------------------------------------------------------

    def _stock_change(
        self, slug: str, location: str, line: Line, *, sold: int, counter: Counter, day: date
    ) -> dict[str, Any]:
        """Sell (``sold`` > 0, only if available), return (< 0) or just count (0) a line's units."""
        names = {"#counter": counter_attribute(counter, day)}
        values = {":zero": _n(0), ":count": _n(line.qty)}
        expression = "SET #counter = if_not_exists(#counter, :zero) + :count"
        condition = "attribute_exists(pk)"
        if sold:
            values[":sold"] = _n(sold)
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

    def _spend_change(self, slug: str, spend: dict[str, int], *, sign: int) -> list[dict[str, Any]]:
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
            put["ExpressionAttributeValues"] = {":now": _n(expired_before)}
        return {"Put": put}


def _shortage(line: Line, raw: dict[str, Any] | None, now_epoch: int) -> Shortage | None:
    """What a stock item (raw, as read) lacks for ``line``, and how much of the gap expired holds
    still sit on (the caller may release them and try again); None if it has enough."""
    available = int(raw["available"]["N"]) if raw else 0
    if available >= line.qty:
        return None
    holds = (raw or {}).get("holds", {}).get("M", {})
    expired = sum(int(hold["M"]["q"]["N"]) for hold in holds.values() if int(hold["M"]["exp"]["N"]) <= now_epoch)
    return Shortage(line.sku, line.size, line.qty, max(available, 0), releasable=expired)
