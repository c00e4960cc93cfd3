"""DynamoDB adapter for returns and exchanges: one TransactWriteItems per return, all or nothing.

The return's record (conditioned on being new: each ``return_id`` once), the units returned so far
on the sale's marker or the booking (conditioned on staying within what it sold), the piece back on
the stock shard it came from, for an exchange the other size taken (conditioned on ``available``),
and the studio's counters: returns within 30 days per SKU, packaging variant and pop-up, and why.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.models import iso, local_day
from chalicelib.stock.counters import Counter
from chalicelib.stock.ports import BookingState, OutOfStock, StockRef
from chalicelib.stock.shards import allocate
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
        parts = item.get("parts") or {"0": item["qty"]}
        return SoldPiece(
            slug=slug,
            generation=generation,
            sku=item["sku"],
            size=item["size"],
            location=location,
            units=int(item["qty"]),
            sold_at=datetime.fromisoformat(item["sold_at"]),
            parts=tuple((int(shard), int(units)) for shard, units in parts.items()),
            packaging="standard",
            origin=("sale", sale_id),
            returned=int(item.get("returned", 0)),
        )

    def apply_return(self, claim: ReturnClaim, shards: int = 1) -> ReturnOutcome:
        """Apply the return once, with its exchange, in one transaction (see the module). The units
        go back to the shards the sale took them from (``allocate``): for a sale split over shards,
        after those returned already, so the transaction is conditioned on that count exactly."""
        piece, qty = claim.piece, claim.qty
        day = local_day(claim.zone, claim.returned_at)
        out = StockRef(piece.slug, piece.generation, *claim.exchange, piece.location) if claim.exchange else None
        try:
            order = self.shards_to_try(out, qty, shards, claim.returned_at) if out else [0]
        except OutOfStock:
            return "exchange_out_of_stock"
        while True:  # ends: each retry follows a return that came first (the count only grows) or a lost shard
            back = StockRef(piece.slug, piece.generation, piece.sku, piece.size, piece.location)
            allocation = allocate(piece.parts, piece.returned, qty)
            actions = [
                {"Put": self._record(claim, order[0] if out else None)},
                {"Update": self._counted_back(piece, qty)},
                *(
                    {"Update": _stock(self._table, back.on(shard), -units, Counter.RETURNED, day)}
                    for shard, units in allocation
                ),
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
            if failed & set(range(1, 2 + len(allocation))):  # the count of the sale's units, or their shards
                fresh = self._refreshed(piece)
                if fresh is None or fresh.returned <= piece.returned or fresh.returned + qty > fresh.units:
                    return "over_returned"
                piece = fresh  # another return of the split sale came first: go back to the parts after it
                continue
            order.pop(0)  # the exchange's shard lost a race: the next one the read found
            if not order:
                return "exchange_out_of_stock"

    def _refreshed(self, piece: SoldPiece) -> SoldPiece | None:
        """A split till sale's piece read again (its returned count moved), or None."""
        kind, origin = piece.origin
        if kind != "sale" or len(piece.parts) < 2:
            return None
        fresh = self.till_sale(piece.slug, piece.generation, origin, piece.location)
        return fresh and replace(fresh, packaging=piece.packaging)

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

    def _counted_back(self, piece: SoldPiece, qty: int) -> dict[str, Any]:
        """The units returned so far, on the sale's marker or the booking, within what it sold (and,
        for a sale split over shards, exactly as read: which parts get them back depends on it)."""
        kind, origin = piece.origin
        condition = "(attribute_not_exists(#n) OR #n <= :room)"
        values = {":zero": number(0), ":q": number(qty), ":room": number(piece.units - qty)}
        names = {"#pk": schema.PK}
        if kind == "sale":
            key, names["#n"] = schema.till_sale_key(piece.slug, origin), "returned"
            if len(piece.parts) > 1:
                condition += " AND " + ("#n = :done" if piece.returned else "attribute_not_exists(#n)")
                if piece.returned:
                    values[":done"] = number(piece.returned)
        else:
            key, names["#n"] = schema.booking_key(origin), f"returned@{piece.sku}#{piece.size}"
            condition += " AND #state = :picked"
            names["#state"] = "state"
            values[":picked"] = {"S": BookingState.PICKED_UP.value}
        return {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": "SET #n = if_not_exists(#n, :zero) + :q",
            "ConditionExpression": f"attribute_exists(#pk) AND {condition}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }


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
