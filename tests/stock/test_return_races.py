"""Returns racing over a real socket (moto's server): the same return sent by many tills' retries at
once applies once, and many returns of one sale never bring back more than it sold, each unit to
the stock shard it came from (also when the sale was split over shards)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from chalicelib import wiring
from chalicelib.stock.ports import StockRef
from chalicelib.store.client import dynamodb
from chalicelib.tills.returns import ReturnsBatch, apply_returns
from chalicelib.tills.sales import SalesBatch, apply_sales
from devtools import flash_sale
from devtools.process import forget_process_state

SOLD = 5


@pytest.mark.parametrize(("shards", "units"), [(1, 80), (8, 20)], ids=["N=1", "N=8, the sale split over shards"])
def test_each_return_once_and_never_more_back_than_sold(
    moto_table: str, monkeypatch: pytest.MonkeyPatch, shards: int, units: int
) -> None:
    monkeypatch.setenv("DROPFRONT_DYNAMODB_READ_TIMEOUT", "120")
    forget_process_state()
    now = datetime.now(UTC)
    flash_sale.prepare(moto_table, flash_sale.FlashSale(units=units, buyers=0, threads=1, shards=shards), now)
    line = {
        "sku": flash_sale.SKU,
        "size": flash_sale.SIZE,
        "qty": SOLD,
        "price_minor": 3000,
        "sold_at": now.isoformat(),
    }
    sold = SalesBatch.model_validate({"popup": flash_sale.POPUP, "sales": [{"sale_id": "sale-1", **line}]})
    assert apply_sales(wiring.catalog(), wiring.stock(), sold, now, wiring.tryons()).applied == ["sale-1"]
    tote = StockRef("linen-lab", 0, flash_sale.SKU, flash_sale.SIZE, flash_sale.POPUP)
    before = {shard: item["sold"] for shard, item in wiring.stock().shard_items(tote).items()}
    assert (max(before.values()) < SOLD) == (shards > 1), "on 8 shards of 2 or 3, the sale of 5 is split"

    ids = ["the-same"] * 16 + [f"own-{n}" for n in range(16)]
    barrier = threading.Barrier(len(ids))

    def send(return_id: str) -> str:
        batch = ReturnsBatch.model_validate(
            {
                "popup": flash_sale.POPUP,
                "returns": [
                    {
                        "return_id": return_id,
                        "sale_id": "sale-1",
                        "sku": flash_sale.SKU,
                        "size": flash_sale.SIZE,
                        "qty": 1,
                        "reason": "changed_mind",
                        "returned_at": now.isoformat(),
                    }
                ],
            }
        )
        barrier.wait()
        report = apply_returns(wiring.catalog(), wiring.returns(), wiring.bookings(), batch, now)
        return ("applied" if report.applied else "duplicate" if report.duplicates else report.rejected[0]["code"]) + (
            ":same" if return_id == "the-same" else ""
        )

    dynamodb()  # one client, built before the threads
    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        outcomes = Counter(pool.map(send, ids))

    applied = outcomes["applied"] + outcomes["applied:same"]
    assert outcomes["applied:same"] <= 1 and applied == SOLD, outcomes
    assert outcomes["over_returned"] + outcomes["over_returned:same"] + applied + outcomes["duplicate:same"] == 32
    after = wiring.stock().shard_items(tote)
    assert {shard: item["sold"] for shard, item in after.items()} == dict.fromkeys(before, 0)  # each part back
    assert all(item["available"] >= 0 and item["sold"] >= 0 for item in after.values())
    assert wiring.numbers().counts("linen-lab")["reason@changed_mind"] == SOLD
