"""The studio's counters of a drop are spread over NUMBER_SHARDS items, so the launch's bookings and
first visits do not all write one item; reading them sums every item."""

from __future__ import annotations

from chalicelib.store import schema
from chalicelib.store.client import call
from chalicelib.store.numbers import DynamoNumbers


def test_additions_spread_over_items_and_read_back_as_one_total(table: str) -> None:
    numbers = DynamoNumbers(table)
    for _ in range(200):
        numbers.add("linen-lab", {"units@EUR": 2, "seen@cell-a": 1})
    numbers.add("winter-knit", {"units@EUR": 5})
    assert numbers.counts("linen-lab") == {"units@EUR": 400, "seen@cell-a": 200}
    assert numbers.counts("winter-knit") == {"units@EUR": 5}
    items = call(
        "query",
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": schema.numbers_partition("linen-lab")}},
    )["Items"]
    assert 8 < len(items) <= schema.NUMBER_SHARDS  # spread, not one hot item (200 adds over 16: all but surely >8)
