"""Sharded stock on moto's server: the cost of a sharded booking against an unsharded one, and a
launch-sized sale on 8 shards that must oversell nothing.

Cost: the drop page's journey (a hold, then the booking that converts it), one at a time, on a
fresh table each, with the drop's stock on 1 item per size and on 8; the figures are DynamoDB
requests per booking (counted on the client, by operation) and the median time, and their ratios.
A sharded take reads its size's shards first (one consistent Query) and a sharded slot its items;
the writes are the same. The sale: 300 pieces (the load model's drop), 1,200 buyers at 32
clients, half of them holding first, on 8 shards.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from bench.flash_sale import _fresh_table
from bench.holds import timed
from bench.setup import dynamodb_process
from bench.stats import percentile
from devtools import flash_sale


def measure(count: int = 40, shards: int = 8, buyers: int = 1200) -> dict[str, Any]:
    os.environ["DROPFRONT_STOCK_CACHE_SECONDS"] = "1"
    os.environ["DROPFRONT_DYNAMODB_READ_TIMEOUT"] = "120"  # the emulator's queue, not an outage
    now = datetime.now(UTC)
    figures: dict[str, Any] = {"count": count, "shards": shards}
    with dynamodb_process() as endpoint:
        for label, n in (("unsharded", 1), ("sharded", shards)):
            sale = flash_sale.FlashSale(units=count * 20, buyers=0, threads=1, shards=n, slots=1, places=count * 2)
            slots = flash_sale.prepare(_fresh_table(endpoint, f"cost-{label}"), sale, now)
            seconds, calls = timed(slots, count, now, hold_first=True)
            figures[label] = {
                "p50_ms": round(percentile(seconds, 0.5) * 1000, 1),
                "requests_per_booking": round(sum(calls.values()) / count, 2),
                "by_operation": {name: round(n / count, 2) for name, n in sorted(calls.items())},
            }
        sale = flash_sale.FlashSale(units=300, buyers=buyers, threads=32, shards=shards, holding=0.5)
        table = _fresh_table(endpoint, "sharded-sale")
        flash_sale.run(sale, flash_sale.prepare(table, sale, now), now)
        result = flash_sale.audit(table, now)
    plain, sharded = figures["unsharded"], figures["sharded"]
    figures["time_ratio"] = round(sharded["p50_ms"] / plain["p50_ms"], 2)
    figures["requests_ratio"] = round(sharded["requests_per_booking"] / plain["requests_per_booking"], 2)
    figures["sale"] = {
        "units": 300,
        "buyers": buyers,
        "outcomes": dict(sale.outcomes),
        "bookings_per_s": round(sale.outcomes["booked"] / sale.seconds, 1),
        "sold": result.sold,
        "held": result.held,
        "oversold": result.oversold(),
        "overbooked": result.overbooked(sale.capacity),
    }
    return figures


if __name__ == "__main__":
    from devtools.embedded_dynamodb import use_fake_credentials

    use_fake_credentials()
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", "bench-key")
    print(measure(10, 8, 300))
