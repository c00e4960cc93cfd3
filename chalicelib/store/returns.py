"""DynamoDB adapter for returns and exchanges: one TransactWriteItems per return, all or nothing.

The return's record (conditioned on being new: each ``return_id`` once), the units returned so far
on the sale's marker or the booking (conditioned on staying within what it sold), the piece back on
the stock shard it came from, for an exchange the other size taken (conditioned on ``available``),
and the studio's counters: returns within 30 days per SKU, packaging variant and pop-up, and why.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.models import iso, local_day
from chalicelib.stock.ports import BookingState, Counter, OutOfStock, StockRef
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute, from_item, to_item
from chalicelib.store.base import number
from chalicelib.store.client import add_counters, transact
from chalicelib.store.stock import ShardedStock, ref_key
from chalicelib.tills.ports import ReturnClaim, ReturnOutcome, SoldPiece


def returns_counters(claim: ReturnClaim) -> dict[str, int]:
    """What a return adds to the studio's counters: its units within 30 days of the sale, per SKU,
    packaging variant and pop-up, and per reason."""
    piece, counts = claim.piece, {f"reason@{claim.reason}": claim.qty}
    if claim.within_30_days:
        counts[f"returned@{piece.sku}#{piece.packaging}#{piece.location}"] = claim.qty
    return counts


class DynamoReturns(ShardedStock):
    def till_sale(self, slug: str, generation: int, sale_id: str, location: str) -> SoldPiece | None:
        """A till sale as its marker recorded it (sales applied in one update, without counters or
        shards, left none and cannot be returned through the till's sync)."""
        raw = self._read(schema.till_sale_key(slug, sale_id))
        item = from_item(raw) if raw else {}
        if "sold_at" not in item:
            return None
        return SoldPiece(
            slug=slug,
            generation=generation,
            sku=item["sku"],
            size=item["size"],
            location=location,
            units=int(item["qty"]),
            sold_at=datetime.fromisoformat(item["sold_at"]),
            shard=int(item.get("shard", 0)),
            packaging="standard",
            origin=("sale", sale_id),
        )

    def apply_return(self, claim: ReturnClaim, shards: int = 1) -> ReturnOutcome:
        """Apply the return once, with its exchange, in one transaction (see the module)."""
        piece, qty = claim.piece, claim.qty
        day = local_day(claim.zone, claim.returned_at)
        back = StockRef(piece.slug, piece.generation, piece.sku, piece.size, piece.location, piece.shard)
        out = StockRef(piece.slug, piece.generation, *claim.exchange, piece.location) if claim.exchange else None
        try:
            order = self.shards_to_try(out, qty, shards, claim.returned_at) if out else [0]
        except OutOfStock:
            return "exchange_out_of_stock"
        while True:
            actions = [
                {"Put": self._record(claim, order[0] if out else None)},
                {"Update": self._counted_back(claim)},
                {"Update": _stock(self._table, back, -qty, Counter.RETURNED, day)},
                {"Update": add_counters(self._table, schema.numbers_key(piece.slug), returns_counters(claim))},
            ]
            if out:
                actions.append({"Update": _stock(self._table, out.on(order[0]), qty, Counter.EXCHANGED, day)})
            reasons = transact(self._call, actions, "return")
            if reasons is None:
                return "applied"
            failed = {i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"}
            if 0 in failed:
                return "duplicate"
            if failed & {1, 2}:
                return "over_returned"
            order.pop(0)  # the exchange's shard lost a race: the next one the read found
            if not order:
                return "exchange_out_of_stock"

    def _record(self, claim: ReturnClaim, exchange_shard: int | None) -> dict[str, Any]:
        kind, origin = claim.piece.origin
        fields = {
            **{k: v for k, v in asdict(claim).items() if k not in ("piece", "returned_at", "exchange")},
            "drop": claim.piece.slug,
            "sku": claim.piece.sku,
            "size": claim.piece.size,
            "popup": claim.piece.location,
            "packaging": claim.piece.packaging,
            kind: origin,
            "returned_at": iso(claim.returned_at),
            "recorded_at": iso(datetime.now(UTC)),
            **({"exchange": {"sku": claim.exchange[0], "size": claim.exchange[1]}} if claim.exchange else {}),
            **({"exchange_shard": exchange_shard} if exchange_shard is not None else {}),
        }
        return {
            "TableName": self._table,
            "Item": {**schema.return_key(claim.return_id), **to_item(fields)},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": schema.PK},
        }

    def _counted_back(self, claim: ReturnClaim) -> dict[str, Any]:
        """The units returned so far, on the sale's marker or the booking, within what it sold."""
        piece, (kind, origin) = claim.piece, claim.piece.origin
        if kind == "sale":
            key, counted, extra = schema.till_sale_key(piece.slug, origin), "returned", ""
        else:
            key, counted = schema.booking_key(origin), f"returned@{piece.sku}#{piece.size}"
            extra = " AND #state = :picked"
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": "SET #n = if_not_exists(#n, :zero) + :q",
            "ConditionExpression": f"attribute_exists(#pk) AND (attribute_not_exists(#n) OR #n <= :room){extra}",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#n": counted},
            "ExpressionAttributeValues": {
                ":zero": number(0),
                ":q": number(claim.qty),
                ":room": number(piece.units - claim.qty),
            },
        }
        if extra:
            update["ExpressionAttributeNames"]["#state"] = "state"
            update["ExpressionAttributeValues"][":picked"] = {"S": BookingState.PICKED_UP.value}
        return update


def _stock(table: str, ref: StockRef, sold: int, counter: Counter, day: Any) -> dict[str, Any]:
    """Units back on a stock item (``sold`` < 0: only if it sold them) or handed out (> 0: only if
    available), counted under ``counter`` for the day."""
    condition = "sold >= :back" if sold < 0 else "available >= :q"
    return {
        "TableName": table,
        "Key": ref_key(ref),
        "UpdateExpression": "SET sold = sold + :q, available = available - :q, #c = if_not_exists(#c, :zero) + :n",
        "ConditionExpression": f"attribute_exists(pk) AND {condition}",
        "ExpressionAttributeNames": {"#c": counter_attribute(counter, day)},
        "ExpressionAttributeValues": {
            ":q": number(sold),
            ":n": number(abs(sold)),
            ":zero": number(0),
            **({":back": number(-sold)} if sold < 0 else {}),
        },
    }
