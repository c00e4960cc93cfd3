"""DynamoDB adapter for checkout holds: units set aside for one visitor while they book.

Placing a hold is one TransactWriteItems: a hold on each line's stock item (``available >= qty``),
one of the visitor's hold places (free, or holding an expired hold) and the hold's record. Either all
of it happens or none. The units come back when the shopper lets go, when a booking converts them
(the booking's own transaction, in ``store/bookings.py``), or when the hold expires (whoever needs the
stock next, or the minute sweep, releases it: the expiry is in every condition).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.models import Line
from chalicelib.stock.ports import (
    CheckoutHold,
    Hold,
    HoldGone,
    HoldState,
    OutOfStock,
    PlaceTaken,
    VisitorPlace,
)
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.base import number
from chalicelib.store.client import transact, update_if
from chalicelib.store.stock import FREE_OR_EXPIRED, DynamoStock, hold_update, place_update, shortage


class DynamoHolds(DynamoStock):
    """Checkout holds, on top of the single-item stock writes that release them."""

    def _record(self, hold: CheckoutHold) -> dict[str, Any]:
        """The hold's record, put only if new."""
        fields = {
            "hold_id": hold.hold_id,
            "drop": hold.drop,
            "generation": hold.generation,
            "popup": hold.popup,
            "visitor": hold.visitor,
            "lines": [
                {"sku": line.sku, "size": line.size, "qty": line.qty, "shard": hold.ref(line).shard}
                for line in hold.lines
            ],
            "place": hold.place,
            "state": hold.state.value,
            "created_at": hold.created_at,
            schema.TTL_ATTRIBUTE: hold.expires_at + 86_400,  # kept a day after it lapses, for its page
            "hold_expires_at": hold.expires_at,
        }
        return {
            "TableName": self._table,
            "Item": {**schema.checkout_hold_key(hold.hold_id), **to_item(fields)},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": schema.PK},
        }

    def checkout_hold(self, hold_id: str) -> CheckoutHold | None:
        raw = self._read(schema.checkout_hold_key(hold_id))
        return None if raw is None else _hold_from_item(from_item(raw))

    def visitor_hold_places(self, visitor_id: str) -> dict[str, VisitorPlace]:
        raw = self._read(schema.visitor_holds_key(visitor_id))
        item = from_item(raw) if raw else {}
        return {
            name: VisitorPlace(value["id"], value["exp"])
            for name, value in item.items()
            if name.startswith("h") and isinstance(value, dict)
        }

    def place_checkout_hold(self, hold: CheckoutHold, now_epoch: int, shards: int = 1) -> CheckoutHold:
        """Hold every line and take the visitor's place, all or nothing; returns the hold with the
        shard each line is held on (a line whose shard lost a race tries the next one the read
        found with stock). Raises OutOfStock (with the units expired holds still sit on) or
        PlaceTaken."""
        now = datetime.fromtimestamp(now_epoch, UTC)
        orders = self._take_orders([(hold.ref(line), line.qty) for line in hold.lines], shards, now)
        while True:
            placed = replace(hold, line_shards=tuple(order[0] for order in orders))
            stock = [
                hold_update(self._table, placed.ref(line), Hold(hold.hold_id, line.qty, hold.expires_at))
                for line in hold.lines
            ]
            key = schema.visitor_holds_key(hold.visitor)
            values = {":now": number(now_epoch)}
            place = place_update(self._table, key, hold.place, hold.hold_id, hold.expires_at, FREE_OR_EXPIRED, values)
            actions = [{"Update": update} for update in stock] + [{"Update": place}, {"Put": self._record(placed)}]
            reasons = transact(self._call, actions, "hold")
            if reasons is None:
                return placed
            failed = [
                i for i, reason in enumerate(reasons[: len(stock)]) if reason.get("Code") == "ConditionalCheckFailed"
            ]
            if not failed:
                if reasons[len(stock)].get("Code") == "ConditionalCheckFailed":
                    raise PlaceTaken(hold.place)
                raise AssertionError(f"a new hold id collided: {hold.hold_id}")  # pragma: no cover - 24 random bits
            tried = [(placed.ref(hold.lines[i]), hold.lines[i].qty) for i in failed]
            self._next_shards(orders, failed, tried, [reasons[i].get("Item") for i in failed], shards, now_epoch)

    def grow_checkout_hold(
        self, old: CheckoutHold, grown: CheckoutHold, now_epoch: int, shards: int = 1
    ) -> CheckoutHold:
        """Replace ``old`` with ``grown`` (its lines and more, same place and expiry) in one
        transaction: the held units move from the old hold to the new on each item and only the
        extra units are taken from ``available`` (on the shard the line is held on; a new line picks
        one). Returns the grown hold with its shards. Raises OutOfStock, or HoldGone if ``old``
        lapsed."""
        before = {(line.sku, line.size): line.qty for line in old.lines}
        new = [line for line in grown.lines if (line.sku, line.size) not in before]
        orders = self._take_orders(
            [(grown.ref(line), line.qty) for line in new], shards, datetime.fromtimestamp(now_epoch, UTC)
        )
        chosen = dict(zip(((line.sku, line.size) for line in new), orders, strict=True))
        placed = replace(
            grown,
            line_shards=tuple(
                chosen[(line.sku, line.size)][0] if (line.sku, line.size) in chosen else old.ref(line).shard
                for line in grown.lines
            ),
        )
        stock = []
        for line in grown.lines:
            ref, held = placed.ref(line), before.get((line.sku, line.size), 0)
            update = hold_update(self._table, ref, Hold(grown.hold_id, line.qty, grown.expires_at))
            if held:
                extra = line.qty - held
                update["UpdateExpression"] = (
                    "SET holds.#h = :hold, held = held + :extra, available = available - :extra REMOVE holds.#old"
                )
                update["ConditionExpression"] = (
                    "attribute_not_exists(holds.#h) AND holds.#old.q = :held AND holds.#old.exp > :now"
                    + (" AND available >= :extra" if extra > 0 else "")
                )
                update["ExpressionAttributeNames"]["#old"] = old.hold_id
                del update["ExpressionAttributeNames"]["#pk"]
                values = update["ExpressionAttributeValues"]
                del values[":q"]
                values |= {":extra": number(extra), ":held": number(held), ":now": number(now_epoch)}
            stock.append(update)
        key, same = schema.visitor_holds_key(grown.visitor), {":old": {"S": old.hold_id}}
        place = place_update(self._table, key, grown.place, grown.hold_id, grown.expires_at, "#place.id = :old", same)
        retire = {
            "TableName": self._table,
            "Key": schema.checkout_hold_key(old.hold_id),
            "UpdateExpression": "SET #state = :released, replaced_by = :new",
            "ConditionExpression": "#state = :held AND hold_expires_at > :now",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":released": {"S": HoldState.RELEASED.value},
                ":held": {"S": HoldState.HELD.value},
                ":new": {"S": grown.hold_id},
                ":now": number(now_epoch),
            },
        }
        actions = [{"Update": u} for u in stock] + [
            {"Update": place},
            {"Update": retire},
            {"Put": self._record(placed)},
        ]
        reasons = transact(self._call, actions, "hold")
        if reasons is None:
            return placed
        failed = [i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
        if any(i >= len(stock) for i in failed):
            raise HoldGone(old.hold_id)
        short = []
        for i in failed:
            line, raw = grown.lines[i], reasons[i].get("Item") or self._read(stock[i]["Key"])
            item = from_item(raw) if raw else {}
            old_hold = (item.get("holds") or {}).get(old.hold_id)
            if before.get((line.sku, line.size)) and (old_hold is None or old_hold["exp"] <= now_epoch):
                raise HoldGone(old.hold_id)
            extra = line.qty - before.get((line.sku, line.size), 0)
            short.append(shortage(line.sku, line.size, extra, item, now_epoch))
        raise OutOfStock(short)

    def end_checkout_hold(self, hold: CheckoutHold, at_iso: str) -> bool:
        """Mark a hold released, if it is still held; True only for the call that did. The caller then
        gives its units back (each release is conditioned on the stock item still holding them)."""
        return update_if(
            self._call,
            TableName=self._table,
            Key=schema.checkout_hold_key(hold.hold_id),
            UpdateExpression="SET #state = :released, released_at = :at",
            ConditionExpression="#state = :held OR (#state = :released AND released_at = :at)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":released": {"S": HoldState.RELEASED.value},
                ":held": {"S": HoldState.HELD.value},
                ":at": {"S": at_iso},
            },
        )

    def free_hold_place(self, visitor_id: str, place: str, hold_id: str) -> bool:
        """Give the visitor's place back, if this hold still has it."""
        return update_if(
            self._call,
            TableName=self._table,
            Key=schema.visitor_holds_key(visitor_id),
            UpdateExpression="REMOVE #place",
            ConditionExpression="#place.id = :id",
            ExpressionAttributeNames={"#place": place},
            ExpressionAttributeValues={":id": {"S": hold_id}},
        )


def _hold_from_item(item: dict[str, Any]) -> CheckoutHold:
    return CheckoutHold(
        hold_id=item["hold_id"],
        drop=item["drop"],
        generation=item.get("generation", 0),
        popup=item["popup"],
        visitor=item["visitor"],
        lines=tuple(Line(line["sku"], line["size"], line["qty"]) for line in item["lines"]),
        line_shards=tuple(line.get("shard", 0) for line in item["lines"]),
        place=item["place"],
        state=HoldState(item["state"]),
        created_at=item["created_at"],
        expires_at=item["hold_expires_at"],
        booking=item.get("booking"),
    )
