"""A hold + booking (the drop page's journey) against a booking alone, one at a time on moto's server.

Both run the app's own path over loopback on a fresh table each; the figure is the median of each and
their ratio. The hold adds one transaction (and its reads) before the booking's, which converts it.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from bench.flash_sale import _fresh_table
from bench.setup import dynamodb_process
from bench.stats import percentile
from devtools import flash_sale


def timed(slots: list[str], count: int, now: datetime, *, hold_first: bool) -> tuple[list[float], Counter[str]]:
    """``count`` bookings one at a time after one to warm the client and catalog: the seconds each
    took, and the DynamoDB requests they made, by operation (counted on the client)."""
    from chalicelib.store.client import dynamodb

    flash_sale.one_booking(slots[0], uuid.uuid4().hex, now, hold_first=hold_first)
    calls: Counter[str] = Counter()

    def count_call(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    events = dynamodb().meta.events
    events.register("before-call.dynamodb", count_call)
    seconds = []
    try:
        for i in range(count):
            started = time.perf_counter()
            status, body = flash_sale.one_booking(slots[i % len(slots)], uuid.uuid4().hex, now, hold_first=hold_first)
            seconds.append(time.perf_counter() - started)
            if status != 201:
                raise AssertionError(f"a booking in the benchmark was refused: {body}")
    finally:
        events.unregister("before-call.dynamodb", count_call)
    return seconds, calls


def measure(count: int = 40) -> dict[str, Any]:
    os.environ["DROPFRONT_STOCK_CACHE_SECONDS"] = "1"
    now = datetime.now(UTC)
    sale = flash_sale.FlashSale(units=count * 20, buyers=0, threads=1)  # slots with room for every booking
    with dynamodb_process() as endpoint:
        alone_slots = flash_sale.prepare(_fresh_table(endpoint, "booking-alone"), sale, now)
        alone, _ = timed(alone_slots, count, now, hold_first=False)
        held_slots = flash_sale.prepare(_fresh_table(endpoint, "hold-then-booking"), sale, now)
        held, _ = timed(held_slots, count, now, hold_first=True)
    alone_ms, held_ms = percentile(alone, 0.5) * 1000, percentile(held, 0.5) * 1000
    return {
        "count": count,
        "booking_alone_p50_ms": round(alone_ms, 1),
        "hold_and_booking_p50_ms": round(held_ms, 1),
        "ratio": round(held_ms / alone_ms, 2),
    }
