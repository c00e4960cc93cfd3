"""DynamoDB adapter for the catalog: drops, SKUs, locations and stock, read and written as items."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.ports import PopupDay, StockCounts
from chalicelib.core import records
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict, Unprocessable
from chalicelib.core.models import Drop, DropCatalog, Location, ProductionBatch, Sku
from chalicelib.pricing.policy import PricingPolicy
from chalicelib.stock.counters import Counter
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute, from_item, to_item
from chalicelib.store.audit import entry_put
from chalicelib.store.base import DynamoAdapter, number_of
from chalicelib.store.client import batch_items, batch_write, condition_failed, paginate, transact

if TYPE_CHECKING:  # the shop's reads load none of the stock port's records (and the outbox's they bring)
    from chalicelib.stock.ports import StockLine, StockRef

_KEY_ATTRIBUTES = frozenset({schema.PK, schema.SK, schema.GSI1_PK, schema.GSI1_SK})
MAX_TRANSACTION_ITEMS = 100


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _KEY_ATTRIBUTES}


def _catalog_items(catalog: DropCatalog) -> list[dict[str, Any]]:
    """The drop's META item (first), its SKUs in display order, and its locations."""
    drop = catalog.drop
    items = [
        {
            schema.PK: schema.drop_partition(drop.slug),
            schema.SK: schema.META,
            schema.GSI1_PK: schema.DROPS_INDEX_PK,
            schema.GSI1_SK: f"{drop.starts_at.isoformat()}#{drop.slug}",
            **records.dump(drop, mode="json"),
        }
    ]
    items += sku_items(drop.slug, drop.generation, catalog.skus)
    items += [
        {schema.PK: f"LOC#{location.id}", schema.SK: schema.META, **records.dump(location, mode="json")}
        for location in catalog.locations
    ]
    return items


def sku_items(slug: str, generation: int, skus: Sequence[Sku]) -> list[dict[str, Any]]:
    """One generation's SKU items, in display order."""
    return [
        {
            schema.PK: schema.drop_partition(slug),
            schema.SK: schema.sku_sort_key(generation, position, sku.sku),
            **records.dump(sku, mode="json"),
        }
        for position, sku in enumerate(skus)
    ]


def stock_item(slug: str, generation: int, line: StockLine) -> dict[str, Any]:
    """A stock item as made: nothing held or sold yet."""
    return {
        schema.PK: schema.stock_partition(slug, generation),
        schema.SK: schema.stock_sort_key(line.sku, line.size, line.location, line.shard),
        "sku": line.sku,
        "size": line.size,
        "location": line.location,
        "on_hand": line.on_hand,
        "held": 0,
        "sold": 0,
        "available": line.on_hand,
        "holds": {},
        **({"shard": line.shard} if line.shard else {}),
    }


def _policy(item: dict[str, Any] | None) -> PricingPolicy | None:
    return None if item is None else records.read(PricingPolicy, json.loads(item["policy"]["S"]))


def _spend(item: dict[str, Any] | None) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in (item or {}).items() if "@" in name and "N" in value}


class DynamoCatalog(DynamoAdapter):
    """Reads and writes the catalog items described in ``chalicelib.store.schema``."""

    # --- reads -------------------------------------------------------------------------------

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return (from_item(raw) for raw in paginate(self._call, "query", TableName=self._table, **kwargs))

    def drop_catalog(self, slug: str) -> DropCatalog | None:
        """The drop with its live generation's SKUs (the META item sorts first, so it is known before
        them; SKU items of a staged or retired generation are skipped unparsed)."""
        drop: Drop | None = None
        skus: list[Sku] = []
        batches: list[ProductionBatch] = []
        for item in self._query(
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": schema.PK},
            ExpressionAttributeValues={":pk": {"S": schema.drop_partition(slug)}},
        ):
            if item[schema.SK] == schema.META:
                drop = records.read(Drop, _fields(item))
            elif item[schema.SK].startswith(schema.BATCH_PREFIX):  # before META: any generation's
                batches.append(records.read(ProductionBatch, _fields(item)))
            elif drop is not None and item[schema.SK].startswith(schema.sku_prefix(drop.generation)):
                skus.append(records.read(Sku, _fields(item)))
        if drop is None:
            return None
        return DropCatalog(
            drop=drop,
            skus=tuple(skus),
            locations=self._locations(drop.location_ids),
            batches=tuple(sorted(batches, key=lambda batch: (batch.ready_on, batch.id))),
        )

    def _locations(self, ids: Iterable[str]) -> tuple[Location, ...]:
        wanted = list(dict.fromkeys(ids))
        raws = batch_items(self._call, self._table, [schema.location_key(i) for i in wanted])
        found = {
            location.id: location
            for location in (records.read(Location, _fields(from_item(raw))) for raw in raws.values())
        }
        return tuple(found[i] for i in wanted if i in found)

    def drops(self) -> list[Drop]:
        """Every drop, earliest start first."""
        return [
            records.read(Drop, _fields(item))
            for item in self._query(
                IndexName=schema.GSI1,
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": schema.GSI1_PK},
                ExpressionAttributeValues={":pk": {"S": schema.DROPS_INDEX_PK}},
            )
        ]

    def pricing_policy(self, slug: str, version: int | None = None) -> PricingPolicy | None:
        """The drop's current policy (or a given version); None if it has none. Invalid data raises."""
        return _policy(self._call("get_item", TableName=self._table, Key=schema.policy_key(slug, version)).get("Item"))

    def cohort_spend(self, slug: str) -> dict[str, int]:
        """Minor units budgeted rules have granted, by counter (``pricing.budgets``; bookings add to it)."""
        return _spend(self._call("get_item", TableName=self._table, Key=schema.spend_key(slug)).get("Item"))

    def current_pricing(self, slug: str) -> tuple[PricingPolicy | None, dict[str, int]]:
        """The drop's current policy and its budgets' spend, in one BatchGetItem: a shopper's first
        view needs both, and each call is a round trip on the cold start's path."""
        policy_key, spend_key = schema.policy_key(slug), schema.spend_key(slug)
        found = batch_items(self._call, self._table, [policy_key, spend_key])
        return _policy(found.get(schema.key_of(policy_key))), _spend(found.get(schema.key_of(spend_key)))

    def popup_day(self, slug: str, generation: int, popup: str, day: date) -> PopupDay:
        """The pop-up's footfall ``day`` (its day total) and the units its till sold of the drop that
        day (the stock items' day counters there): the signals a pop-up's markdown stage reads."""
        footfall = self._call(
            "get_item",
            TableName=self._table,
            Key=schema.footfall_key(popup, f"DAY#{day.isoformat()}"),
            ProjectionExpression="entered",
        ).get("Item")
        till_units = 0
        for item in paginate(
            self._call,
            "query",
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            FilterExpression="#loc = :popup",
            ProjectionExpression="#sold",
            ExpressionAttributeNames={
                "#pk": schema.PK,
                "#loc": "location",
                "#sold": counter_attribute(Counter.TILL_SOLD, day),
            },
            ExpressionAttributeValues={
                ":pk": {"S": schema.stock_partition(slug, generation)},
                ":popup": {"S": popup},
            },
        ):
            till_units += number_of(item, counter_attribute(Counter.TILL_SOLD, day))
        return PopupDay(number_of(footfall, "entered") if footfall else 0, till_units)

    def put_pricing_policy(self, slug: str, policy: PricingPolicy, audit: AuditEntry | None = None) -> None:
        """Store a new immutable version, point the drop at it and log who did it, in one
        transaction; ``Conflict`` if that version exists (someone else saved first)."""
        body = {"S": records.dump_json(policy)}
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {**schema.policy_key(slug, policy.version), "policy": body},
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": schema.PK},
                }
            },
            {"Put": {"TableName": self._table, "Item": {**schema.policy_key(slug), "policy": body}}},
        ]
        if (
            transact(self._call, [*actions, *([entry_put(self._table, audit)] if audit else [])], "pricing change")
            is not None
        ):
            raise Conflict(
                f"Pricing version {policy.version} was saved by someone else meanwhile. Reload and try again.",
                code="edit_conflict",
            )

    def available_stock(self, slug: str, generation: int) -> StockCounts:
        """Available units per (sku, size, location) over its shards, and units on hand and sold per
        (SKU, location), for display and sell-through: an eventually consistent read of only the
        attributes it needs, parsed without the generic converter (it runs on every view). The SKU,
        size and place come from the sort key: botocore parses each projected attribute of each item."""
        counts = StockCounts({}, {}, {})
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": "#sk, #available, #on_hand, #sold",
            "ExpressionAttributeNames": {
                "#pk": schema.PK,
                "#sk": schema.SK,
                "#available": "available",
                "#on_hand": "on_hand",
                "#sold": "sold",
            },
            "ExpressionAttributeValues": {":pk": {"S": schema.stock_partition(slug, generation)}},
        }
        available, on_hand, sold = counts.available, counts.on_hand, counts.sold
        # number_of's read inlined: its three calls per item were a fifth of the loop's time, and a
        # fresh read sums a few hundred items on every origin render.
        for item in paginate(self._call, "query", **kwargs):
            sku, size, place = schema.stock_group(item[schema.SK]["S"])  # a sharded size's shards add up
            key, at = (sku, size, place), (sku, place)
            units = int(item["available"]["N"]) if "available" in item else 0
            available[key] = available.get(key, 0) + (units if units > 0 else 0)
            on_hand[at] = on_hand.get(at, 0) + (int(item["on_hand"]["N"]) if "on_hand" in item else 0)
            sold[at] = sold.get(at, 0) + (int(item["sold"]["N"]) if "sold" in item else 0)
        return counts

    # --- writes (studio and seeding) ---------------------------------------------------------

    def put_drop_catalog(self, catalog: DropCatalog) -> None:
        """Write the drop, its SKUs and its locations; existing items are replaced."""
        self._batch_put(_catalog_items(catalog))

    def put_fresh_stock(self, drop: Drop, lines: Iterable[StockLine]) -> None:
        """Write a drop's stock items as made, replacing any: only for a table just created (a first
        seed), where batch writes save a round trip per item. Otherwise use ``put_stock_if_absent``."""
        self._batch_put([stock_item(drop.slug, drop.generation, line) for line in lines])

    def _batch_put(self, items: Sequence[dict[str, Any]]) -> None:
        for _ in batch_write(self._call, self._table, [{"PutRequest": {"Item": to_item(item)}} for item in items]):
            pass

    def save_drop(self, catalog: DropCatalog, audit: AuditEntry, *, create: bool = False) -> DropCatalog:
        """Write the drop, its SKUs and locations and an audit entry in one transaction, if nobody
        changed the drop since it was read (its ``revision``) or, with ``create``, if it is new.
        Returns the drop as saved (the next revision); ``Conflict`` otherwise."""
        expected = catalog.drop.revision
        saved = replace(catalog, drop=replace(catalog.drop, revision=expected + 1))
        items = _catalog_items(saved)
        if len(items) > MAX_TRANSACTION_ITEMS - 1:
            raise Unprocessable("A drop edited in the studio has at most 90 SKUs and pop-ups.", code="drop_too_large")
        head: dict[str, Any] = {"TableName": self._table, "Item": to_item(items[0])}
        if create:
            head["ConditionExpression"] = "attribute_not_exists(#pk)"
            head["ExpressionAttributeNames"] = {"#pk": schema.PK}
        else:
            head["ConditionExpression"] = (
                "attribute_exists(#pk) AND (#rev = :rev OR (attribute_not_exists(#rev) AND :rev = :zero))"
            )
            head["ExpressionAttributeNames"] = {"#pk": schema.PK, "#rev": "revision"}
            head["ExpressionAttributeValues"] = {":rev": {"N": str(expected)}, ":zero": {"N": "0"}}
        actions = [
            {"Put": head},
            *({"Put": {"TableName": self._table, "Item": to_item(i)}} for i in items[1:]),
            entry_put(self._table, audit),
        ]
        if transact(self._call, actions, "drop edit") is not None:
            if create:
                raise Conflict(f"There is already a drop called {catalog.drop.slug}.", code="drop_exists")
            raise Conflict(
                "Someone else saved this drop since you opened it. Reload and try again.", code="edit_conflict"
            )
        return saved

    def put_stock_if_absent(self, ref: StockRef, on_hand: int) -> bool:
        """Create a stock item unless it exists (a re-seed never resets a running sale)."""
        from chalicelib.stock.ports import StockLine  # for writers only (see the imports above)

        item = stock_item(ref.slug, ref.generation, StockLine(ref.sku, ref.size, ref.location, on_hand, ref.shard))
        try:
            self._call(
                "put_item",
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": schema.PK},
            )
        except Exception as error:
            if condition_failed(error):
                return False
            raise
        return True
