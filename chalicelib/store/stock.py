"""DynamoDB adapter for stock writes: holds, till sales and restocks.

A hold, its release and a plain till sale are one conditional ``UpdateItem`` on the stock item, so
they are atomic on any DynamoDB engine (dynalite too, which has no transactions); a restock, and a
till sale with its audit entry or counters, are a transaction with those. Live holds sit in the
item's ``holds`` map with their expiry; the expiry is checked in the condition of every write that
releases one, so an expired hold is released by whoever needs the stock next (or the sweep), never
by TTL deletion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.models import epoch_seconds, local_day
from chalicelib.stock.ports import Counter, Hold, OutOfStock, Shortage, StockRef
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute, from_item
from chalicelib.store.audit import entry_put
from chalicelib.store.base import DynamoAdapter, number, number_of
from chalicelib.store.client import add_counters, condition_failed, paginate, transact
from chalicelib.tills.ports import SaleOutcome

COUNTERS = frozenset(counter.value for counter in Counter)
RESTOCK_ATTEMPTS = 3


def ref_key(ref: StockRef) -> dict[str, dict[str, str]]:
    return schema.stock_key(ref.slug, ref.generation, ref.sku, ref.size, ref.location)


def hold_update(table: str, ref: StockRef, hold: Hold, keep: int = 0) -> dict[str, Any]:
    """The ``UpdateItem`` body (alone or in a transaction) that puts a hold on a stock item: only if
    the item exists, has the units available with ``keep`` more left over, and has no hold of that
    id. Stock holds and try-on holds (which keep a pop-up's last pieces for buyers) are this write."""
    return {
        "TableName": table,
        "Key": ref_key(ref),
        "UpdateExpression": "SET holds.#h = :hold, held = held + :q, available = available - :q",
        "ConditionExpression": "attribute_exists(#pk) AND available >= :need AND attribute_not_exists(holds.#h)",
        "ExpressionAttributeNames": {"#pk": schema.PK, "#h": hold.id},
        "ExpressionAttributeValues": {
            ":q": number(hold.qty),
            ":need": number(hold.qty + keep),
            ":hold": {"M": {"q": number(hold.qty), "exp": number(hold.expires_at)}},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def place_update(
    table: str, key: dict[str, Any], place: str, holder: str, expires_at: int, condition: str, values: dict[str, Any]
) -> dict[str, Any]:
    """The ``UpdateItem`` body that puts ``holder`` (a try-on or checkout hold, until ``expires_at``)
    into one of a visitor's places, on ``condition``: the visitor's limit, taken in the transaction."""
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "SET #place = :place",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#place": place},
        "ExpressionAttributeValues": {":place": {"M": {"id": {"S": holder}, "exp": number(expires_at)}}, **values},
    }


FREE_OR_EXPIRED = "attribute_not_exists(#place) OR #place.exp <= :now"


def shortage(sku: str, size: str, requested: int, item: dict[str, Any], now_epoch: int) -> Shortage:
    """What a stock item (as read, ``{}`` if missing) lacks for ``requested`` units, with the units
    its expired holds still sit on (the caller may release them and try again)."""
    holds = item.get("holds") or {}
    expired = sum(hold["q"] for hold in holds.values() if hold["exp"] <= now_epoch)
    return Shortage(sku, size, requested, max(int(item.get("available", 0)), 0), releasable=expired)


class DynamoStock(DynamoAdapter):
    """Single-item conditional writes on stock items."""

    def item(self, ref: StockRef) -> dict[str, Any] | None:
        """The stock item, read consistently (never for display: the catalog reads that)."""
        raw = self._read(ref_key(ref))
        return None if raw is None else from_item(raw)

    def release_expired_in_drop(self, slug: str, generation: int, now: datetime) -> int:
        """Release every expired hold on the drop's stock (the sweep): one Query finds them, and each
        release is conditioned on its expiry, so a hold renewed since the read is left alone."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": "#sku, #size, #loc, holds",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#sku": "sku", "#size": "size", "#loc": "location"},
            "ExpressionAttributeValues": {":pk": {"S": schema.stock_partition(slug, generation)}},
            "ConsistentRead": True,
        }
        released = 0
        for raw in paginate(self._call, "query", **kwargs):
            if raw.get("holds", {}).get("M"):
                item = from_item(raw)
                ref = StockRef(slug, generation, item["sku"], item["size"], item["location"])
                released += self._release_expired_in(ref, item, now)
        return released

    def day_counters(
        self, slug: str, generation: int
    ) -> tuple[dict[tuple[str, str, str], dict[str, int]], dict[tuple[str, str], int]]:
        """The drop's numbers for the studio: each counter per (SKU, location, day), and the units
        made per (SKU, location); sizes summed."""
        numbers: dict[tuple[str, str, str], dict[str, int]] = {}
        made: dict[tuple[str, str], int] = {}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": schema.PK},
            "ExpressionAttributeValues": {":pk": {"S": schema.stock_partition(slug, generation)}},
        }
        for raw in paginate(self._call, "query", **kwargs):
            sku, location = raw["sku"]["S"], raw["location"]["S"]
            made[(sku, location)] = made.get((sku, location), 0) + number_of(raw, "on_hand")
            for name, value in raw.items():
                counter, _, day = name.partition("@")
                if day and counter in COUNTERS:
                    counts = numbers.setdefault((sku, location, day), {})
                    counts[counter] = counts.get(counter, 0) + int(value["N"])
        return numbers, made

    def _update(self, ref: StockRef, **kwargs: Any) -> dict[str, Any] | None:
        """One conditional update; the item as it was if the condition failed (None if it passed).
        Engines that don't return the old item on failure (dynalite) get a consistent read."""
        body = {"TableName": self._table, "Key": ref_key(ref), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        return self._apply(ref, {**body, **kwargs})

    def _apply(self, ref: StockRef, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            self._call("update_item", **body)
        except Exception as error:
            if not condition_failed(error):
                raise
            old = getattr(error, "response", {}).get("Item")
            return from_item(old) if old else (self.item(ref) or {})
        return None

    # --- restock -------------------------------------------------------------------------------

    def restock(self, ref: StockRef, qty: int, audit: Callable[[int, int], AuditEntry]) -> tuple[int, AuditEntry]:
        """Add ``qty`` units on hand (a delivery from the microfactory) with the audit entry
        ``audit(before, after)``, in one transaction and with the units on hand exactly as the entry
        says (a concurrent restock makes it read again). Returns the units on hand now, and the entry."""
        for _ in range(RESTOCK_ATTEMPTS):
            seen = self.item(ref)
            if seen is None:
                raise NotFound(f"No stock item for {ref.sku} {ref.size} at {ref.location}.", code="unknown_item")
            before = int(seen["on_hand"])
            update = {
                "TableName": self._table,
                "Key": ref_key(ref),
                "UpdateExpression": "SET on_hand = on_hand + :q, available = available + :q",
                "ConditionExpression": "on_hand = :before",
                "ExpressionAttributeValues": {":q": number(qty), ":before": number(before)},
            }
            entry = audit(before, before + qty)
            if transact(self._call, [{"Update": update}, entry_put(self._table, entry)], "restock") is None:
                return before + qty, entry
        raise Conflict("The stock changed while adding to it. Please try again.", code="edit_conflict")

    # --- holds ---------------------------------------------------------------------------------

    def place_hold(self, ref: StockRef, hold_id: str, qty: int, expires_at: datetime, now: datetime) -> Hold:
        """Hold ``qty`` units until ``expires_at``. Placing the same hold id again returns the first.
        If stock is short, expired holds on the item are released first, then it tries once more."""
        hold = Hold(hold_id, qty, epoch_seconds(expires_at))
        for attempt in range(2):
            old = self._apply(ref, hold_update(self._table, ref, hold))
            if old is None:
                return hold
            if not old:
                raise NotFound(f"No stock item for {ref.sku} {ref.size} at {ref.location}.", code="unknown_item")
            existing = old.get("holds", {}).get(hold_id)
            if existing is not None:
                return Hold(hold_id, existing["q"], existing["exp"])
            if attempt == 0 and self._release_expired_in(ref, old, now):
                continue
            raise OutOfStock([replace(shortage(ref.sku, ref.size, qty, old, epoch_seconds(now)), releasable=0)])
        raise AssertionError("unreachable")  # pragma: no cover

    def release_hold(self, ref: StockRef, hold_id: str) -> bool:
        """Release a hold (try-on done or cancelled); True only for the call that released it."""
        item = self.item(ref)
        hold = (item or {}).get("holds", {}).get(hold_id)
        if hold is None:
            return False
        return self._release(ref, hold_id, hold["q"], "holds.#h.q = :q") is None

    def release_expired(self, ref: StockRef, now: datetime) -> int:
        """Release every hold on the item that has expired by ``now``; the units released."""
        item = self.item(ref)
        return self._release_expired_in(ref, item or {}, now)

    def _release_expired_in(self, ref: StockRef, item: dict[str, Any], now: datetime) -> int:
        released = 0
        cutoff = epoch_seconds(now)
        for hold_id, hold in (item.get("holds") or {}).items():
            if hold["exp"] <= cutoff and self._release(ref, hold_id, hold["q"], "holds.#h.exp <= :now", cutoff) is None:
                released += hold["q"]
        return released

    def _release(self, ref: StockRef, hold_id: str, qty: int, condition: str, now: int | None = None) -> Any:
        values = {":q": number(qty)}
        if now is not None:
            values[":now"] = number(now)
        return self._update(
            ref,
            UpdateExpression="REMOVE holds.#h SET held = held - :q, available = available + :q",
            ConditionExpression=f"attribute_exists(holds.#h) AND holds.#h.q = :q AND {condition}",
            ExpressionAttributeNames={"#h": hold_id},
            ExpressionAttributeValues=values,
        )

    # --- till sales ----------------------------------------------------------------------------

    def apply_till_sale(
        self,
        ref: StockRef,
        sale_id: str,
        qty: int,
        price_minor: int,
        sold_at: datetime,
        zone: str,
        audit: AuditEntry | None = None,
        numbers: Mapping[str, int] | None = None,
    ) -> SaleOutcome:
        """Apply one till sale exactly once: the sale id joins the item's applied set in the same
        update that takes the units, conditioned on it not being there and on enough stock. An
        ``audit`` entry (a staff override) and the studio's ``numbers`` (cohort and cell counters)
        are written in the same transaction, or not at all, so a sale counts once or never."""
        day = local_day(zone, sold_at)
        update = dict(
            TableName=self._table,
            Key=ref_key(ref),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
            UpdateExpression=(
                "SET sold = sold + :q, available = available - :q, "
                "#units = if_not_exists(#units, :zero) + :q, #revenue = if_not_exists(#revenue, :zero) + :amount "
                "ADD sale_ids :ids"
            ),
            ConditionExpression="attribute_exists(pk) AND available >= :q AND NOT contains(sale_ids, :id)",
            ExpressionAttributeNames={
                "#units": counter_attribute(Counter.TILL_SOLD, day),
                "#revenue": counter_attribute(Counter.TILL_REVENUE, day),
            },
            ExpressionAttributeValues={
                ":q": number(qty),
                ":zero": number(0),
                ":amount": number(qty * price_minor),
                ":ids": {"SS": [sale_id]},
                ":id": {"S": sale_id},
            },
        )
        extra = [entry_put(self._table, audit)] if audit else []
        if numbers:
            extra.append({"Update": add_counters(self._table, schema.numbers_key(ref.slug), numbers)})
        if not extra:
            old = self._apply(ref, update)
        else:
            reasons = transact(self._call, [{"Update": update}, *extra], "till sale")
            raw = reasons[0].get("Item") if reasons else None
            old = None if reasons is None else (from_item(raw) if raw else (self.item(ref) or {}))
        if old is None:
            return "applied"
        if not old:
            return "unknown_item"
        if sale_id in old.get("sale_ids", set()):
            return "duplicate"
        return "out_of_stock"
