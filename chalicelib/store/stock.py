"""DynamoDB adapter for stock writes: holds, till sales and restocks.

A hold, its release and a plain till sale are one conditional ``UpdateItem`` on the stock item, so
they are atomic on any DynamoDB engine (dynalite too, which has no transactions); a restock, and a
till sale with its audit entry or counters, are a transaction with those. Live holds sit in the
item's ``holds`` map with their expiry; the expiry is checked in the condition of every write that
releases one, so an expired hold is released by whoever needs the stock next (or the sweep), never
by TTL deletion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from random import SystemRandom
from typing import Any

from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.models import epoch_seconds, iso, local_day
from chalicelib.stock.counters import Counter
from chalicelib.stock.ports import Hold, OutOfStock, Shortage, StockRef
from chalicelib.stock.shards import plan_moves, sale_order, split_take, take_order
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute, from_item
from chalicelib.store.audit import entry_put
from chalicelib.store.base import DynamoAdapter, number, number_of
from chalicelib.store.client import add_counters, condition_failed, paginate, transact
from chalicelib.tills.ports import SaleOutcome

COUNTERS = frozenset(counter.value for counter in Counter)
RESTOCK_ATTEMPTS = 3
SALE_READS = 3  # a sharded till sale's reads before it leaves the sale to the till's next send
_shuffle = SystemRandom()


def ref_key(ref: StockRef) -> dict[str, dict[str, str]]:
    return schema.stock_key(ref.slug, ref.generation, ref.sku, ref.size, ref.location, ref.shard)


def shard_move(table: str, ref: StockRef, units: int) -> dict[str, Any]:
    """The ``UpdateItem`` body that moves ``units`` available units onto (> 0) or off (< 0) a shard:
    off only if it has them; onto one that does not exist yet creates it, empty but for them."""
    body: dict[str, Any] = {
        "TableName": table,
        "Key": ref_key(ref),
        "UpdateExpression": (
            "SET on_hand = if_not_exists(on_hand, :zero) + :q, available = if_not_exists(available, :zero) + :q, "
            "held = if_not_exists(held, :zero), sold = if_not_exists(sold, :zero), "
            "holds = if_not_exists(holds, :none), sku = :sku, #size = :size, #loc = :loc, #shard = :shard"
        ),
        "ExpressionAttributeNames": {"#size": "size", "#loc": "location", "#shard": "shard"},
        "ExpressionAttributeValues": {
            ":q": number(units),
            ":zero": number(0),
            ":none": {"M": {}},
            ":sku": {"S": ref.sku},
            ":size": {"S": ref.size},
            ":loc": {"S": ref.location},
            ":shard": number(ref.shard),
        },
    }
    if units < 0:
        body["ConditionExpression"] = "available >= :need"
        body["ExpressionAttributeValues"][":need"] = number(-units)
    return body


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


def total_shortage(ref: StockRef, requested: int, items: Iterable[dict[str, Any]], now_epoch: int) -> Shortage:
    """What a size's shards (as read) lack together for ``requested`` units."""
    short = [shortage(ref.sku, ref.size, requested, item, now_epoch) for item in items]
    return Shortage(
        ref.sku, ref.size, requested, sum(s.available for s in short), releasable=sum(s.releasable for s in short)
    )


def shortage(sku: str, size: str, requested: int, item: dict[str, Any], now_epoch: int) -> Shortage:
    """What a stock item (as read, ``{}`` if missing) lacks for ``requested`` units, with the units
    its expired holds still sit on (the caller may release them and try again)."""
    holds = item.get("holds") or {}
    expired = sum(hold["q"] for hold in holds.values() if hold["exp"] <= now_epoch)
    return Shortage(sku, size, requested, max(int(item.get("available", 0)), 0), releasable=expired)


class ShardedStock(DynamoAdapter):
    """Reads of a size's shards, for every adapter that takes stock (holds, try-ons, bookings)."""

    def item(self, ref: StockRef) -> dict[str, Any] | None:
        """The stock item, read consistently (never for display: the catalog reads that)."""
        raw = self._read(ref_key(ref))
        return None if raw is None else from_item(raw)

    def shard_items(self, ref: StockRef) -> dict[int, dict[str, Any]]:
        """Every shard of ``ref``'s size at its place, by shard: one consistent Query of the sort
        keys that begin with the size's (a place whose id extends this one's is filtered out)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :group)",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#sk": schema.SK},
            "ExpressionAttributeValues": {
                ":pk": {"S": schema.stock_partition(ref.slug, ref.generation)},
                ":group": {"S": schema.stock_sort_key(ref.sku, ref.size, ref.location)},
            },
            "ConsistentRead": True,
        }
        found = {}
        for raw in paginate(self._call, "query", **kwargs):
            item = from_item(raw)
            if (item["sku"], item["size"], item["location"]) == (ref.sku, ref.size, ref.location):
                found[int(item.get("shard", 0))] = item
        return found

    def shards_to_try(self, ref: StockRef, qty: int, shards: int, now: datetime) -> list[int]:
        """The shards a take of ``qty`` units tries, in order (``stock/shards.py``): just shard 0
        when the size has one (no read: its write's condition decides), else those a consistent
        read finds with the units. Raises OutOfStock, with the size's total, when none has them."""
        if shards <= 1:
            return [0]
        items = self.shard_items(ref)
        order = take_order({shard: int(item["available"]) for shard, item in items.items()}, qty, _shuffle)
        if not order:
            raise OutOfStock([total_shortage(ref, qty, items.values(), epoch_seconds(now))])
        return order

    def _take_orders(self, takes: Sequence[tuple[StockRef, int]], shards: int, now: datetime) -> list[list[int]]:
        """``shards_to_try`` for each (size, units) of a multi-line take; one OutOfStock for all the
        lines no shard can serve."""
        orders: list[list[int]] = []
        short: list[Shortage] = []
        for ref, qty in takes:
            try:
                orders.append(self.shards_to_try(ref, qty, shards, now))
            except OutOfStock as refused:
                short += refused.shortages
        if short:
            raise OutOfStock(short)
        return orders

    def _next_shards(
        self,
        orders: list[list[int]],
        failed: Sequence[int],
        takes: Sequence[tuple[StockRef, int]],
        old_items: Sequence[dict[str, Any] | None],
        shards: int,
        now_epoch: int,
    ) -> None:
        """After a take's transaction failed on the stock of lines ``failed`` (their refs as tried,
        and the items as they were), move each to its next shard; raise OutOfStock when a line has
        none left, with the line's shortfall: its item's for an unsharded size, else its shards'
        together, read again."""
        short = []
        for i, (ref, qty), raw in zip(failed, takes, old_items, strict=True):
            orders[i].pop(0)
            if orders[i]:
                continue
            if shards <= 1:
                item = raw or self._read(ref_key(ref))
                short.append(shortage(ref.sku, ref.size, qty, from_item(item) if item else {}, now_epoch))
            else:
                short.append(total_shortage(ref, qty, self.shard_items(ref).values(), now_epoch))
        if short:
            raise OutOfStock(short)


class DynamoStock(ShardedStock):
    """Single-item conditional writes on stock items, and the rebalancing of a hot size's shards."""

    def _drop_stock(self, slug: str, generation: int, attribute: str) -> Iterator[tuple[StockRef, dict[str, Any]]]:
        """Every stock item of the drop's generation, as (its ref with its shard, the item with only
        ``attribute`` besides the key fields), read consistently: one Query."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": f"#sku, #size, #loc, #shard, {attribute}",
            "ExpressionAttributeNames": {
                "#pk": schema.PK,
                "#sku": "sku",
                "#size": "size",
                "#loc": "location",
                "#shard": "shard",
            },
            "ExpressionAttributeValues": {":pk": {"S": schema.stock_partition(slug, generation)}},
            "ConsistentRead": True,
        }
        for raw in paginate(self._call, "query", **kwargs):
            item = from_item(raw)
            yield StockRef(slug, generation, item["sku"], item["size"], item["location"], item.get("shard", 0)), item

    def release_expired_in_drop(self, slug: str, generation: int, now: datetime) -> int:
        """Release every expired hold on the drop's stock (the sweep): one Query finds them, and each
        release is conditioned on its expiry, so a hold renewed since the read is left alone."""
        return sum(
            self._release_expired_in(ref, item, now)
            for ref, item in self._drop_stock(slug, generation, "holds")
            if item.get("holds")
        )

    def rebalance(self, slug: str, generation: int, shards: int) -> int:
        """Even out the available units of each size over its ``shards`` shards where one is
        near-empty or a shard past the count holds some (``plan_moves``): each move is one
        transaction taking available units off one shard (conditioned on having them) and onto
        another, so no unit is made or lost and held or sold units stay where they are. The sweep
        runs it every minute for every drop not ended, and the studio when it changes the count. Returns
        the units moved; a move that lost a race is left for the next run."""
        sizes: dict[StockRef, dict[int, int]] = {}
        for ref, item in self._drop_stock(slug, generation, "available"):
            sizes.setdefault(ref.on(0), {})[ref.shard] = int(item["available"])
        moved = 0
        for ref, available in sizes.items():
            for move in plan_moves(available, shards):
                actions = [
                    {"Update": shard_move(self._table, ref.on(move.source), -move.units)},
                    {"Update": shard_move(self._table, ref.on(move.target), move.units)},
                ]
                if transact(self._call, actions, "stock rebalance") is None:
                    moved += move.units
        return moved

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
        """Add ``qty`` units on hand (a delivery from the microfactory) to the size's shard 0 with the
        audit entry ``audit(before, after)`` of the size's units on hand over all its shards, in one
        transaction conditioned on shard 0's units on hand as read (only restocks change the total,
        all on shard 0: a concurrent one makes it read again; the rebalance spreads the units).
        Returns the size's units on hand now, and the entry."""
        for _ in range(RESTOCK_ATTEMPTS):
            items = self.shard_items(ref)
            if 0 not in items:
                raise NotFound(f"No stock item for {ref.sku} {ref.size} at {ref.location}.", code="unknown_item")
            before = sum(int(item["on_hand"]) for item in items.values())
            update = {
                "TableName": self._table,
                "Key": ref_key(ref.on(0)),
                "UpdateExpression": "SET on_hand = on_hand + :q, available = available + :q",
                "ConditionExpression": "on_hand = :before",
                "ExpressionAttributeValues": {":q": number(qty), ":before": number(int(items[0]["on_hand"]))},
            }
            entry = audit(before, before + qty)
            if transact(self._call, [{"Update": update}, entry_put(self._table, entry)], "restock") is None:
                return before + qty, entry
        raise Conflict("The stock changed while adding to it. Please try again.", code="edit_conflict")

    # --- holds ---------------------------------------------------------------------------------

    def place_hold(
        self, ref: StockRef, hold_id: str, qty: int, expires_at: datetime, now: datetime, shards: int = 1
    ) -> Hold:
        """Hold ``qty`` units until ``expires_at`` on one of the size's ``shards`` shards; the hold
        says which. Placing the same hold id on the same shard again returns the first. If stock is
        short, expired holds on the size are released first, then it tries once more."""
        hold = Hold(hold_id, qty, epoch_seconds(expires_at))
        for attempt in range(2):
            try:
                order = self.shards_to_try(ref, qty, shards, now)
            except OutOfStock as short:
                if attempt == 0 and short.shortages[0].releasable and self.release_expired(ref, now):
                    continue
                raise
            seen = []
            for shard in order:
                old = self._apply(ref.on(shard), hold_update(self._table, ref.on(shard), hold))
                if old is None:
                    return replace(hold, shard=shard)
                if not old:
                    raise NotFound(f"No stock item for {ref.sku} {ref.size} at {ref.location}.", code="unknown_item")
                existing = old.get("holds", {}).get(hold_id)
                if existing is not None:
                    return Hold(hold_id, existing["q"], existing["exp"], shard)
                seen.append(old)
            if attempt == 0 and self.release_expired(ref, now):
                continue
            raise OutOfStock([replace(total_shortage(ref, qty, seen, epoch_seconds(now)), releasable=0)])
        raise AssertionError("unreachable")  # pragma: no cover

    def release_hold(self, ref: StockRef, hold_id: str) -> bool:
        """Release a hold (try-on done or cancelled) from the shard ``ref`` names; True only for the
        call that released it."""
        item = self.item(ref)
        hold = (item or {}).get("holds", {}).get(hold_id)
        if hold is None:
            return False
        return self._release(ref, hold_id, hold["q"], "holds.#h.q = :q") is None

    def release_expired(self, ref: StockRef, now: datetime) -> int:
        """Release every hold on the size's shards that has expired by ``now``; the units released."""
        return sum(self._release_expired_in(ref.on(shard), item, now) for shard, item in self.shard_items(ref).items())

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
        shards: int = 1,
    ) -> SaleOutcome:
        """Apply one till sale exactly once: the sale id joins the item's applied set in the same
        update that takes the units, conditioned on it not being there and on enough stock. An
        ``audit`` entry (a staff override) and the studio's ``numbers`` (cohort and cell counters)
        are written in the same transaction, or not at all, so a sale counts once or never. Such a
        transaction also puts the sale's marker item, conditioned on its absence: that is what
        applies a sale once over a sharded size (``_split_till_sale``)."""
        day = local_day(zone, sold_at)
        extra = [entry_put(self._table, audit)] if audit else []
        if numbers:
            extra.append({"Update": add_counters(self._table, schema.numbers_key(ref.slug), numbers)})
        if shards > 1 or extra:
            marker: dict[str, Any] = {
                "TableName": self._table,
                "Item": {  # what a return of it needs: what, how many, when and from which shards
                    **schema.till_sale_key(ref.slug, sale_id),
                    "sku": {"S": ref.sku},
                    "size": {"S": ref.size},
                    "qty": number(qty),
                    "sold_at": {"S": iso(sold_at)},
                    "parts": {"M": {"0": number(qty)}},
                },
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": schema.PK},
            }
            extra.append({"Put": marker})
        if shards > 1:
            return self._split_till_sale(ref, sale_id, qty, price_minor, day, extra, shards)
        update = _till_sale_update(self._table, ref, sale_id, qty, price_minor, day)
        if not extra:
            old = self._apply(ref, update)
        else:
            reasons = transact(self._call, [{"Update": update}, *extra], "till sale")
            if reasons is not None and reasons[-1].get("Code") == "ConditionalCheckFailed":
                return "duplicate"
            raw = reasons[0].get("Item") if reasons else None
            old = None if reasons is None else (from_item(raw) if raw else (self.item(ref) or {}))
        if old is None:
            return "applied"
        if not old:
            return "unknown_item"
        return "duplicate" if sale_id in old.get("sale_ids", set()) else "out_of_stock"

    def _split_till_sale(
        self,
        ref: StockRef,
        sale_id: str,
        qty: int,
        price_minor: int,
        day: date,
        extra: list[dict[str, Any]],
        shards: int,
    ) -> SaleOutcome:
        """A till sale at a sharded size: from the shards a consistent read finds with the units, in
        ``sale_order`` (one shard if one has them all, else several, ``split_take``), in one
        transaction with its marker, which records the parts (a return gives them back)."""
        marker = extra[-1]["Put"]
        for _ in range(SALE_READS):
            items = self.shard_items(ref)
            if not items:
                return "unknown_item"
            if any(sale_id in item.get("sale_ids", set()) for item in items.values()):
                return "duplicate"
            available = {shard: int(item["available"]) for shard, item in items.items()}
            parts = split_take(available, qty, sale_order(sale_id, shards))
            if parts is None:
                known = self._read(schema.till_sale_key(ref.slug, sale_id))
                return "duplicate" if known else "out_of_stock"
            marker["Item"]["parts"] = {"M": {str(shard): number(units) for shard, units in parts}}
            updates = [
                {"Update": _till_sale_update(self._table, ref.on(shard), sale_id, units, price_minor, day)}
                for shard, units in parts
            ]
            reasons = transact(self._call, [*updates, *extra], "till sale")
            if reasons is None:
                return "applied"
            if reasons[-1].get("Code") == "ConditionalCheckFailed":
                return "duplicate"
        return "out_of_stock"  # the shards kept changing under it: the till sends it again later


def _till_sale_update(table: str, ref: StockRef, sale_id: str, qty: int, price_minor: int, day: date) -> dict[str, Any]:
    """The ``UpdateItem`` body that sells ``qty`` units of a stock item at the till, once per sale id."""
    return {
        "TableName": table,
        "Key": ref_key(ref),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        "UpdateExpression": (
            "SET sold = sold + :q, available = available - :q, "
            "#units = if_not_exists(#units, :zero) + :q, #revenue = if_not_exists(#revenue, :zero) + :amount "
            "ADD sale_ids :ids"
        ),
        "ConditionExpression": "attribute_exists(pk) AND available >= :q AND NOT contains(sale_ids, :id)",
        "ExpressionAttributeNames": {
            "#units": counter_attribute(Counter.TILL_SOLD, day),
            "#revenue": counter_attribute(Counter.TILL_REVENUE, day),
        },
        "ExpressionAttributeValues": {
            ":q": number(qty),
            ":zero": number(0),
            ":amount": number(qty * price_minor),
            ":ids": {"SS": [sale_id]},
            ":id": {"S": sale_id},
        },
    }
