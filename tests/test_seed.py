from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib import wiring
from chalicelib.store import schema
from chalicelib.store.client import dynamodb
from devtools.process import forget_process_state
from devtools.seed import DemoDrop, demo_drops, seed
from tests.conftest import TABLE


def test_demo_data_has_what_the_demo_needs() -> None:
    drops = demo_drops(datetime.now(UTC))
    main = drops[0].catalog
    assert len(main.skus) >= 12
    popups = [loc for loc in main.locations if loc.kind == "popup"]
    assert len(popups) == 2 and len({p.timezone for p in popups}) == 2
    assert any(loc.kind == "web" for loc in main.locations)
    assert len(main.drop.markets) >= 4 and len(main.drop.locales) >= 4
    assert all(s.costs and s.list_prices for s in main.skus)


def test_dates_are_relative_to_the_seed_time() -> None:
    now = datetime(2031, 2, 3, 4, 30, tzinfo=UTC)
    drop = demo_drops(now)[0].catalog.drop
    assert drop.starts_at < now < drop.ends_at
    later = demo_drops(now + timedelta(days=400))[0].catalog.drop
    assert later.starts_at - drop.starts_at == timedelta(days=400)


def scan_count() -> int:
    return int(dynamodb().scan(TableName=TABLE, Select="COUNT")["Count"])


def test_seeding_twice_is_idempotent_and_keeps_sales(demo: list[DemoDrop], seeded_at: datetime) -> None:
    before = scan_count()
    row = demo[0].stock[0]
    key = schema.stock_key("linen-lab", 0, row.sku, row.size, row.location)
    dynamodb().update_item(
        TableName=TABLE, Key=key, UpdateExpression="SET sold = :one", ExpressionAttributeValues={":one": {"N": "1"}}
    )
    seed(TABLE, seeded_at)
    assert scan_count() == before
    assert dynamodb().get_item(TableName=TABLE, Key=key)["Item"]["sold"] == {"N": "1"}
    forget_process_state()
    assert wiring.catalog().drop("linen-lab").drop == demo[0].catalog.drop
