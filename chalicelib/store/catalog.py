"""DynamoDB adapter for the catalog: drops, SKUs, locations and stock, read and written as items."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.models import Drop, DropCatalog, Location, Sku
from chalicelib.pricing.policy import PricingPolicy
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.client import Call, call, condition_failed, paginate

_KEY_ATTRIBUTES = frozenset({schema.PK, schema.SK, schema.GSI1_PK, schema.GSI1_SK})
_MAX_UNPROCESSED_ROUNDS = 5


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _KEY_ATTRIBUTES}


class DynamoCatalog:
    """Reads and writes the catalog items described in ``chalicelib.store.schema``."""

    def __init__(self, table_name: str, call: Call = call) -> None:
        self._table = table_name
        self._call = call

    # --- reads -------------------------------------------------------------------------------

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return (from_item(raw) for raw in paginate(self._call, "query", TableName=self._table, **kwargs))

    def drop_catalog(self, slug: str) -> DropCatalog | None:
        drop: Drop | None = None
        skus: list[Sku] = []
        for item in self._query(
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": schema.PK},
            ExpressionAttributeValues={":pk": {"S": schema.drop_partition(slug)}},
        ):
            if item[schema.SK] == schema.META:
                drop = Drop.model_validate(_fields(item))
            else:
                skus.append(Sku.model_validate(_fields(item)))
        if drop is None:
            return None
        return DropCatalog(drop=drop, skus=tuple(skus), locations=self._locations(drop.location_ids))

    def _locations(self, ids: Iterable[str]) -> tuple[Location, ...]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Location] = {}
        for start in range(0, len(wanted), 100):
            keys = [schema.location_key(i) for i in wanted[start : start + 100]]
            request: dict[str, Any] = {self._table: {"Keys": keys}}
            for _ in range(_MAX_UNPROCESSED_ROUNDS):
                page = self._call("batch_get_item", RequestItems=request)
                for raw in page.get("Responses", {}).get(self._table, []):
                    location = Location.model_validate(_fields(from_item(raw)))
                    found[location.id] = location
                request = page.get("UnprocessedKeys") or {}
                if not request:
                    break
        return tuple(found[i] for i in wanted if i in found)

    def drops(self) -> list[Drop]:
        """Every drop, earliest start first."""
        return [
            Drop.model_validate(_fields(item))
            for item in self._query(
                IndexName=schema.GSI1,
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": schema.GSI1_PK},
                ExpressionAttributeValues={":pk": {"S": schema.DROPS_INDEX_PK}},
            )
        ]

    def pricing_policy(self, slug: str, version: int | None = None) -> PricingPolicy | None:
        """The drop's current policy (or a given version); None if it has none. Invalid data raises."""
        item = self._call("get_item", TableName=self._table, Key=schema.policy_key(slug, version)).get("Item")
        return None if item is None else PricingPolicy.model_validate_json(item["policy"]["S"])

    def cohort_spend(self, slug: str) -> dict[str, int]:
        """Minor units each budgeted rule has granted, by ``<rule>@<currency>`` (bookings add to it)."""
        item = self._call("get_item", TableName=self._table, Key=schema.spend_key(slug)).get("Item") or {}
        return {name: int(value["N"]) for name, value in item.items() if "@" in name and "N" in value}

    def put_pricing_policy(self, slug: str, policy: PricingPolicy) -> None:
        """Store a new immutable version and point the drop at it, in one transaction."""
        body = {"S": policy.model_dump_json()}
        self._call(
            "transact_write_items",
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {**schema.policy_key(slug, policy.version), "policy": body},
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": schema.PK},
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {**schema.policy_key(slug), "policy": body},
                    }
                },
            ],
        )

    def available_stock(self, slug: str) -> tuple[dict[tuple[str, str, str], int], dict[str, int]]:
        """Available units per (sku, size, location) and units on hand per SKU, for display: an
        eventually consistent read of only the attributes it needs, parsed without the generic
        converter (it runs on every view)."""
        available: dict[tuple[str, str, str], int] = {}
        on_hand: dict[str, int] = {}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": "#sku, #size, #loc, #available, #on_hand",
            "ExpressionAttributeNames": {
                "#pk": schema.PK,
                "#sku": "sku",
                "#size": "size",
                "#loc": "location",
                "#available": "available",
                "#on_hand": "on_hand",
            },
            "ExpressionAttributeValues": {":pk": {"S": schema.stock_partition(slug)}},
        }
        for item in paginate(self._call, "query", **kwargs):
            sku = item["sku"]["S"]
            available[(sku, item["size"]["S"], item["location"]["S"])] = max(int(item["available"]["N"]), 0)
            on_hand[sku] = on_hand.get(sku, 0) + int(item["on_hand"]["N"])
        return available, on_hand

    # --- writes (studio and seeding) ---------------------------------------------------------

    def put_drop_catalog(self, catalog: DropCatalog) -> None:
        """Write the drop, its SKUs and its locations; existing items are replaced."""
        drop = catalog.drop
        items = [
            {
                schema.PK: schema.drop_partition(drop.slug),
                schema.SK: schema.META,
                schema.GSI1_PK: schema.DROPS_INDEX_PK,
                schema.GSI1_SK: f"{drop.starts_at.isoformat()}#{drop.slug}",
                **drop.model_dump(mode="json"),
            }
        ]
        items += [
            {
                schema.PK: schema.drop_partition(drop.slug),
                schema.SK: schema.sku_sort_key(position, sku.sku),
                **sku.model_dump(mode="json"),
            }
            for position, sku in enumerate(catalog.skus)
        ]
        items += [
            {schema.PK: f"LOC#{location.id}", schema.SK: schema.META, **location.model_dump(mode="json")}
            for location in catalog.locations
        ]
        for start in range(0, len(items), 25):
            request = {self._table: [{"PutRequest": {"Item": to_item(item)}} for item in items[start : start + 25]]}
            for _ in range(_MAX_UNPROCESSED_ROUNDS):
                page = self._call("batch_write_item", RequestItems=request)
                request = page.get("UnprocessedItems") or {}
                if not request:
                    break

    def put_stock_if_absent(self, slug: str, sku: str, size: str, location: str, on_hand: int) -> bool:
        """Create a stock item unless it exists (a re-seed never resets a running sale)."""
        item = {
            schema.PK: schema.stock_partition(slug),
            schema.SK: schema.stock_sort_key(sku, size, location),
            "sku": sku,
            "size": size,
            "location": location,
            "on_hand": on_hand,
            "held": 0,
            "sold": 0,
            "available": on_hand,
            "holds": {},
        }
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
