"""A drop whose sizes are spread over shards, end to end on moto (the studio's side is in
tests/studio/test_drop_views.py): a till sale applies once however the count
changed between its sends; a take whose shard a race emptied tries the next; a try-on keeps the
pieces buyers are owed; the minute sweep refills a drained shard."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from app import sweep
from chalicelib import wiring
from chalicelib.core.models import Line
from chalicelib.stock.ports import CheckoutHold, HoldState, OutOfStock, StockRef
from chalicelib.store.client import call
from chalicelib.store.holds import DynamoHolds
from chalicelib.tills.sales import issue_till_token
from chalicelib.tryon.ports import TryOn, TryOnClaim, TryOnState
from devtools.process import forget_process_state
from tests.conftest import TABLE, delivery, json_of

SLUG = "linen-lab"
TEE_M = StockRef(SLUG, 0, "TEE-ECRU", "M", "paris-marais")


def shard_units(ref: StockRef) -> dict[int, int]:
    return {shard: item["available"] for shard, item in wiring.stock().shard_items(ref).items()}


def set_shards(shards: int) -> None:
    """The drop's count changed and its units spread, as the studio does."""
    stored = wiring.catalog_store().drop_catalog(SLUG)
    assert stored is not None
    drop = replace(stored.drop, stock_shards=shards)
    wiring.catalog_store().put_drop_catalog(replace(stored, drop=drop))
    wiring.stock().rebalance(SLUG, 0, shards)
    forget_process_state()


def post_sales(client: Client, token: str, *sales: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps({"popup": "paris-marais", "sales": list(sales)})
    answer = client.http.post("/api/pos/sales", headers=headers, body=body)
    assert answer.status_code == 200, answer.body
    report: dict[str, Any] = json_of(answer)
    return report


def test_a_till_sale_applies_once_even_when_the_count_changed_between_its_sends(
    client: Client, seeded_at: datetime
) -> None:
    token = issue_till_token(wiring.tills(), "paris-marais", seeded_at)
    sold_at = (seeded_at - timedelta(minutes=5)).isoformat()
    sale = {"sale_id": "till-1", "sku": "TEE-ECRU", "size": "M", "qty": 1, "price_minor": 4100, "sold_at": sold_at}
    total = sum(shard_units(TEE_M).values())
    assert post_sales(client, token, sale)["applied"] == ["till-1"]  # one item
    set_shards(8)
    assert post_sales(client, token, sale)["duplicates"] == ["till-1"]  # its marker, not its shard, says so
    other = sale | {"sale_id": "till-2"}
    assert post_sales(client, token, other, other)["duplicates"] == ["till-2"]
    assert sum(shard_units(TEE_M).values()) == total - 2


def test_a_take_whose_shard_a_race_emptied_tries_the_next(demo: Any, seeded_at: datetime) -> None:
    set_shards(4)
    first_try: list[dict[str, Any]] = []

    def a_till_sells_the_shard_first(operation: str, **kwargs: Any) -> dict[str, Any]:
        if operation == "transact_write_items" and not first_try:
            key = kwargs["TransactItems"][0]["Update"]["Key"]
            first_try.append(key)
            raced = call("get_item", TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
            units = raced["available"]["N"]
            call(
                "update_item",
                TableName=TABLE,
                Key=key,
                UpdateExpression="SET available = available - :q, sold = sold + :q",
                ExpressionAttributeValues={":q": {"N": units}},
            )
        return call(operation, **kwargs)

    holds = DynamoHolds(TABLE, call=a_till_sells_the_shard_first)
    now = seeded_at
    ref = StockRef(SLUG, 0, "TEE-ECRU", "S", "paris-marais")
    before = shard_units(ref)
    hold = CheckoutHold(
        "h-race",
        SLUG,
        0,
        "paris-marais",
        "v-race",
        (Line("TEE-ECRU", "S", 1),),
        "h0",
        HoldState.HELD,
        now.isoformat(),
        int((now + timedelta(minutes=10)).timestamp()),
    )
    placed = holds.place_checkout_hold(hold, int(now.timestamp()), shards=4)
    raced_shard = int(first_try[0]["sk"]["S"].rsplit("#s", 1)[1]) if "#s" in first_try[0]["sk"]["S"] else 0
    assert placed.line_shards[0] != raced_shard
    after = shard_units(ref)
    assert after[placed.line_shards[0]] == before[placed.line_shards[0]] - 1
    assert wiring.holds().checkout_hold("h-race") == placed, "the record names the shard it holds on"


def test_a_tryon_on_a_sharded_size_leaves_the_kept_pieces(demo: Any, seeded_at: datetime) -> None:
    set_shards(4)
    ref = StockRef(SLUG, 0, "TEE-ECRU", "XS", "paris-marais")
    total = sum(shard_units(ref).values())
    now_epoch = int(seeded_at.timestamp())

    def claim(n: int) -> TryOnClaim:
        tryon = TryOn(
            f"t-{n}",
            SLUG,
            0,
            "TEE-ECRU",
            "XS",
            "paris-marais",
            "Europe/Paris",
            f"v-{n}",
            "s0",
            TryOnState.WAITING,
            seeded_at.isoformat(),
            now_epoch + 600,
        )
        return TryOnClaim(tryon, seeded_at.date(), keep=total - 1, shards=4)

    held = wiring.tryons().request(claim(1), now_epoch)
    assert wiring.stock().item(held.ref)["holds"]["t-1"]["q"] == 1  # type: ignore[index]
    assert wiring.tryons().tryon("t-1") == held
    with pytest.raises(OutOfStock) as refused:
        wiring.tryons().request(claim(2), now_epoch)
    assert refused.value.shortages[0].available == total - 1  # the domain answers kept_for_buyers


def test_the_minute_sweep_refills_a_drained_shard(client: Client, seeded_at: datetime) -> None:
    set_shards(2)
    ref = StockRef(SLUG, 0, "TEE-ECRU", "S", "paris-marais")
    units = shard_units(ref)
    drained = min(units, key=lambda shard: (units[shard], shard))
    for n in range(units[drained]):
        outcome = wiring.stock().apply_till_sale(ref.on(drained), f"drain-{n}", 1, 4100, seeded_at, "Europe/Paris")
        assert outcome == "applied"
    left = sum(shard_units(ref).values())
    assert shard_units(ref)[drained] == 0
    sweep(datetime.now(UTC))
    refilled = shard_units(ref)
    assert sum(refilled.values()) == left and refilled[drained] == left // 2


def test_a_batch_and_a_restock_land_on_shard_0_with_the_size_total_in_the_audit(demo: Any) -> None:
    set_shards(4)
    catalog = wiring.catalog_store().drop_catalog(SLUG)
    assert catalog is not None
    (batch,) = catalog.batches  # the demo's: TRS-STONE L
    ref = StockRef(SLUG, 0, batch.sku, "L", batch.location)
    total = sum(item["on_hand"] for item in wiring.stock().shard_items(ref).values())
    seen: dict[str, tuple[int, int]] = {}

    def entry(on_hand: Any) -> Any:
        seen.update(on_hand)
        return delivery(*on_hand["L"])

    wiring.batches().receive(SLUG, 0, batch, datetime.now(UTC), entry)
    added = batch.units["L"]
    assert seen["L"] == (total, total + added), "the size's units on hand over its shards"
    after = wiring.stock().shard_items(ref)
    assert sum(item["on_hand"] for item in after.values()) == total + added
    on_hand, _ = wiring.stock().restock(ref, 2, delivery)
    assert on_hand == total + added + 2
    wiring.stock().rebalance(SLUG, 0, 4)
    spread = [item["available"] for item in wiring.stock().shard_items(ref).values()]
    assert max(spread) - min(spread) <= 1, spread


def test_a_till_sale_larger_than_any_shard_is_split_and_its_returns_go_back_part_by_part(
    client: Client, seeded_at: datetime
) -> None:
    set_shards(8)  # TEE-ECRU M at paris-marais: 4 pieces, one per shard
    before = shard_units(TEE_M)
    assert max(before.values()) == 1
    token = issue_till_token(wiring.tills(), "paris-marais", seeded_at)
    sold_at = (seeded_at - timedelta(minutes=5)).isoformat()
    sale = {"sale_id": "split-1", "sku": "TEE-ECRU", "size": "M", "qty": 3, "price_minor": 4100, "sold_at": sold_at}
    assert post_sales(client, token, sale)["applied"] == ["split-1"]  # the pieces are in the staff's hands
    after = shard_units(TEE_M)
    assert sum(after.values()) == sum(before.values()) - 3 and sorted(before[s] - after[s] for s in before) == [
        0,
        1,
        1,
        1,
    ]
    assert post_sales(client, token, sale)["duplicates"] == ["split-1"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for n, qty in enumerate((2, 1)):
        line = {"return_id": f"split-r{n}", "sale_id": "split-1", "sku": "TEE-ECRU", "size": "M", "qty": qty}
        line |= {"reason": "fit", "returned_at": seeded_at.isoformat()}
        answer = client.http.post(
            "/api/pos/returns", headers=headers, body=json.dumps({"popup": "paris-marais", "returns": [line]})
        )
        assert json_of(answer)["applied"] == [f"split-r{n}"], answer.body
    assert shard_units(TEE_M) == before, "each piece back on the shard it came from"
    assert all(item["sold"] == 0 for item in wiring.stock().shard_items(TEE_M).values())
