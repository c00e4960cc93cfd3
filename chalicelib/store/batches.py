"""DynamoDB adapter for production batches (``DROP#<slug>`` / ``BATCH#<id>``, read with the drop's
catalog): planned with an audit entry, and received once, adding every size's units to the stock at
their place in the same transaction as the batch's ``received_at`` and the audit entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.core import records
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.models import ProductionBatch, iso
from chalicelib.store import schema
from chalicelib.store.attributes import to_item
from chalicelib.store.audit import entry_put
from chalicelib.store.base import DynamoAdapter, number, number_of
from chalicelib.store.client import paginate, transact

RECEIVE_ATTEMPTS = 3

OnHand = Mapping[str, tuple[int, int]]
"""Units on hand per size, before and after a batch arrives."""


class DynamoBatches(DynamoAdapter):
    def plan(self, slug: str, batch: ProductionBatch, entry: AuditEntry) -> None:
        item = {**schema.batch_key(slug, batch.id), **to_item(records.dump(batch, mode="json"))}
        put = {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(#pk)"}
        put["ExpressionAttributeNames"] = {"#pk": schema.PK}
        if transact(self._call, [{"Put": put}, entry_put(self._table, entry)], "batch plan") is not None:
            raise Conflict("That batch is already planned.", code="batch_exists")

    def receive(
        self, slug: str, generation: int, batch: ProductionBatch, now: datetime, audit: Callable[[OnHand], AuditEntry]
    ) -> AuditEntry:
        """Add the batch's units to the stock at its place (each size's shard 0; the rebalance
        spreads them), once. The audit entry names each size's units on hand before and after, over
        its shards, exactly: only receipts and restocks change the total, all on shard 0, whose
        units on hand the write is conditioned on (a concurrent change makes it read again)."""
        keys = {size: schema.stock_key(slug, generation, batch.sku, size, batch.location) for size in batch.units}
        for _ in range(RECEIVE_ATTEMPTS):
            items = self._sku_stock(slug, generation, batch)  # one read
            before, first = {}, {}
            for size in keys:
                shards = [item for item in items if item["size"]["S"] == size]
                if not any(number_of(item, "shard") == 0 for item in shards):
                    raise NotFound(f"No stock item for {batch.sku} {size} at {batch.location}.", code="unknown_item")
                before[size] = sum(number_of(item, "on_hand") for item in shards)
                first[size] = next(number_of(item, "on_hand") for item in shards if number_of(item, "shard") == 0)
            entry = audit({size: (had, had + batch.units[size]) for size, had in before.items()})
            actions = [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": schema.batch_key(slug, batch.id),
                        "UpdateExpression": "SET received_at = :at",
                        "ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(received_at)",
                        "ExpressionAttributeNames": {"#pk": schema.PK},
                        "ExpressionAttributeValues": {":at": {"S": iso(now)}},
                    }
                },
                *(
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": key,
                            "UpdateExpression": "SET on_hand = on_hand + :q, available = available + :q",
                            "ConditionExpression": "on_hand = :before",
                            "ExpressionAttributeValues": {
                                ":q": number(batch.units[size]),
                                ":before": number(first[size]),
                            },
                        }
                    }
                    for size, key in keys.items()
                ),
                entry_put(self._table, entry),
            ]
            reasons = transact(self._call, actions, "batch receipt")
            if reasons is None:
                return entry
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                raise Conflict("This batch was already received.", code="batch_received")
        raise Conflict("The stock changed while adding the batch to it. Please try again.", code="edit_conflict")

    def _sku_stock(self, slug: str, generation: int, batch: ProductionBatch) -> list[dict[str, Any]]:
        """The stock items (every size and shard) of the batch's SKU at its place, read consistently."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sku)",
            "ProjectionExpression": "#size, #loc, #shard, on_hand",
            "ExpressionAttributeNames": {
                "#pk": schema.PK,
                "#sk": schema.SK,
                "#size": "size",
                "#loc": "location",
                "#shard": "shard",
            },
            "ExpressionAttributeValues": {
                ":pk": {"S": schema.stock_partition(slug, generation)},
                ":sku": {"S": f"{batch.sku}#"},
            },
            "ConsistentRead": True,
        }
        items = paginate(self._call, "query", **kwargs)
        return [item for item in items if item["location"]["S"] == batch.location]
