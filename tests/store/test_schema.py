from __future__ import annotations

from chalicelib.store import schema
from chalicelib.store.client import dynamodb
from devtools.seed import DemoDrop
from tests.conftest import TABLE


def test_the_table_is_built_from_the_one_definition(demo: list[DemoDrop]) -> None:
    table = dynamodb().describe_table(TableName=TABLE)["Table"]
    definition = schema.table_definition(TABLE)
    assert table["KeySchema"] == definition["KeySchema"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == [schema.GSI1]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_stock_items_store_available_beside_the_counters(demo: list[DemoDrop]) -> None:
    row = demo[0].stock[0]
    item = dynamodb().get_item(
        TableName=TABLE,
        Key=schema.stock_key("linen-lab", 0, row.sku, row.size, row.location),
    )["Item"]
    counters = {k: int(item[k]["N"]) for k in ("on_hand", "held", "sold", "available")}
    assert counters["available"] == counters["on_hand"] - counters["held"] - counters["sold"] == row.on_hand
