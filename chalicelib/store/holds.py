"""DynamoDB adapter for checkout holds: units set aside for one visitor while they book.

Placing a hold is one TransactWriteItems: a hold on each line's stock item (``available >= qty``),
one of the visitor's hold places (free, or holding an expired hold) and the hold's record. Either all
of it happens or none. The units come back when the shopper lets go, when a booking converts them
(the booking's own transaction, in ``store/bookings.py``), or when the hold expires (whoever needs the
stock next, or the minute sweep, releases it: the expiry is in every condition).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.models import Line
from chalicelib.stock.ports import CheckoutHold, Hold, HoldState, OutOfStock, PlaceTaken, StockRef, VisitorPlace
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.base import number
from chalicelib.store.client import transact, update_if
from chalicelib.store.stock import DynamoStock, hold_update, shortage


def hold_ref(hold: CheckoutHold, line: Line) -> StockRef:
    return StockRef(hold.drop, line.sku, line.size, hold.popup)


class DynamoHolds(DynamoStock):
    """Checkout holds, on top of the single-item stock writes that release them."""

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

    def place_checkout_hold(self, hold: CheckoutHold, now_epoch: int) -> None:
        """Hold every line and take the visitor's place, all or nothing. Raises OutOfStock (with the
        units expired holds still sit on) or PlaceTaken."""
        stock = [
            hold_update(self._table, hold_ref(hold, line), Hold(hold.hold_id, line.qty, hold.expires_at))
            for line in hold.lines
        ]
        place = {
            "TableName": self._table,
            "Key": schema.visitor_holds_key(hold.visitor),
            "UpdateExpression": "SET #place = :place",
            "ConditionExpression": "attribute_not_exists(#place) OR #place.exp <= :now",
            "ExpressionAttributeNames": {"#place": hold.place},
            "ExpressionAttributeValues": {
                ":place": {"M": {"id": {"S": hold.hold_id}, "exp": number(hold.expires_at)}},
                ":now": number(now_epoch),
            },
        }
        fields = {
            "hold_id": hold.hold_id,
            "drop": hold.drop,
            "popup": hold.popup,
            "visitor": hold.visitor,
            "lines": [{"sku": line.sku, "size": line.size, "qty": line.qty} for line in hold.lines],
            "place": hold.place,
            "state": hold.state.value,
            "created_at": hold.created_at,
            schema.TTL_ATTRIBUTE: hold.expires_at + 86_400,  # kept a day after it lapses, for its page
            "hold_expires_at": hold.expires_at,
        }
        put = {
            "TableName": self._table,
            "Item": {**schema.checkout_hold_key(hold.hold_id), **to_item(fields)},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": schema.PK},
        }
        actions = [{"Update": update} for update in stock] + [{"Update": place}, {"Put": put}]
        reasons = transact(self._call, actions, "hold")
        if reasons is None:
            return
        short = []
        for line, update, reason in zip(hold.lines, stock, reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                raw = reason.get("Item") or self._read(update["Key"])
                short.append(shortage(line.sku, line.size, line.qty, from_item(raw) if raw else {}, now_epoch))
        if short:
            raise OutOfStock(short)
        if reasons[len(stock)].get("Code") == "ConditionalCheckFailed":
            raise PlaceTaken(hold.place)
        raise AssertionError(f"a new hold id collided: {hold.hold_id}")  # pragma: no cover - 24 random bits per ms

    def end_checkout_hold(self, hold: CheckoutHold, at_iso: str) -> bool:
        """Mark a hold released, if it is still held; True only for the call that did. The caller then
        gives its units back (each release is conditioned on the stock item still holding them)."""
        return update_if(
            self._call,
            TableName=self._table,
            Key=schema.checkout_hold_key(hold.hold_id),
            UpdateExpression="SET #state = :released, released_at = :at",
            ConditionExpression="#state = :held",
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
        popup=item["popup"],
        visitor=item["visitor"],
        lines=tuple(Line(line["sku"], line["size"], line["qty"]) for line in item["lines"]),
        place=item["place"],
        state=HoldState(item["state"]),
        created_at=item["created_at"],
        expires_at=item["hold_expires_at"],
        booking=item.get("booking"),
    )
