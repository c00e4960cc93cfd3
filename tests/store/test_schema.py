from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.models import SKU_PATTERN, SLUG_PATTERN
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


@given(
    st.from_regex(SKU_PATTERN, fullmatch=True),
    st.from_regex(r"[^#]{1,16}", fullmatch=True),
    st.from_regex(SLUG_PATTERN, fullmatch=True),
    st.integers(0, 63),
)
def test_a_stock_items_sort_key_names_its_group_whatever_its_shard(sku: str, size: str, place: str, shard: int) -> None:
    assert schema.stock_group(schema.stock_sort_key(sku, size, place, shard)) == (sku, size, place)
