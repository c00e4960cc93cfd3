"""The catalog adapter's batch writes against moto: nothing is silently left half-written."""

from __future__ import annotations

from dataclasses import astuple
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.errors import Unavailable
from chalicelib.stock.ports import StockRef
from chalicelib.store import schema
from chalicelib.store.attributes import from_item
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.client import call
from devtools.seed import demo_drops


def test_a_batch_write_dynamodb_keeps_leaving_unprocessed_is_unavailable_not_silently_partial(table: str) -> None:
    def throttled_writes(operation: str, **kwargs: Any) -> dict[str, Any]:
        if operation == "batch_write_item":  # as a throttled table answers: nothing processed
            return {"UnprocessedItems": kwargs["RequestItems"]}
        return call(operation, **kwargs)

    catalog = demo_drops(datetime.now(UTC))[0].catalog
    with pytest.raises(Unavailable):
        DynamoCatalog(table, throttled_writes).put_drop_catalog(catalog)
    DynamoCatalog(table).put_drop_catalog(catalog)  # and once DynamoDB keeps up, it is written whole
    stored = DynamoCatalog(table).drop_catalog(catalog.drop.slug)
    assert stored is not None and {s.sku for s in stored.skus} == {s.sku for s in catalog.skus}


def test_a_stock_item_made_for_a_shard_is_that_shards(table: str) -> None:
    store = DynamoCatalog(table)
    ref = StockRef("linen-lab", 0, "TEE-ECRU", "M", "paris-marais", shard=3)
    assert store.put_stock_if_absent(ref, 5)
    assert not store.put_stock_if_absent(ref, 9)  # a re-seed never resets it
    item = from_item(call("get_item", TableName=table, Key=schema.stock_key(*astuple(ref)))["Item"])
    assert (item["shard"], item["on_hand"], item["available"]) == (3, 5, 5)
    unsharded = call("get_item", TableName=table, Key=schema.stock_key(*astuple(ref.on(0))))
    assert "Item" not in unsharded  # the shard's unit is not written to the size's first item


def test_the_current_pricing_is_the_policy_and_its_spend_read_in_one_round_trip(table: str) -> None:
    operations: list[str] = []

    def counted(operation: str, **kwargs: Any) -> dict[str, Any]:
        operations.append(operation)
        return call(operation, **kwargs)

    store = DynamoCatalog(table)
    assert DynamoCatalog(table, counted).current_pricing("linen-lab") == (None, {})  # nothing priced yet
    pricing = demo_drops(datetime.now(UTC))[0].pricing
    assert pricing is not None
    store.put_pricing_policy("linen-lab", pricing)
    spend = {"creator-ana@EUR": {"N": "1200"}, "creator-ana@EUR@at:paris-marais": {"N": "300"}}
    call("put_item", TableName=table, Item={**schema.spend_key("linen-lab"), **spend})
    operations.clear()
    policy, spent = DynamoCatalog(table, counted).current_pricing("linen-lab")
    assert operations == ["batch_get_item"]
    assert policy is not None and policy == store.pricing_policy("linen-lab")
    assert spent == store.cohort_spend("linen-lab") == {"creator-ana@EUR": 1200, "creator-ana@EUR@at:paris-marais": 300}


def test_the_display_read_adds_a_sizes_shards_and_reads_what_an_item_lacks_as_none(table: str) -> None:
    """Shards of one size add up; a shard over-drawn below zero counts as none; an item written
    before ``sold`` existed counts none sold."""
    store = DynamoCatalog(table)
    for shard, units in ((0, 4), (1, 3), (2, 0)):
        assert store.put_stock_if_absent(StockRef("knit-club", 0, "CAP-RUST", "M", "paris-marais", shard=shard), units)
    call(
        "update_item",
        TableName=table,
        Key=schema.stock_key("knit-club", 0, "CAP-RUST", "M", "paris-marais", 2),
        UpdateExpression="SET available = :below, sold = :two",
        ExpressionAttributeValues={":below": {"N": "-1"}, ":two": {"N": "2"}},
    )
    call(
        "update_item",
        TableName=table,
        Key=schema.stock_key("knit-club", 0, "CAP-RUST", "M", "paris-marais", 1),
        UpdateExpression="REMOVE sold",
    )
    counts = store.available_stock("knit-club", 0)
    assert counts.available == {("CAP-RUST", "M", "paris-marais"): 7}
    assert (counts.on_hand, counts.sold) == ({("CAP-RUST", "paris-marais"): 7}, {("CAP-RUST", "paris-marais"): 2})
