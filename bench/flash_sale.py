"""The flash sale at docs/design.md's size: 500 units, 2,000 buyers, 32 concurrent clients over loopback.

Buyers go through the app's booking path against moto's server in its own process (atomic per
request). The baseline, measured in the same run, is one uncontended booking at a time on a fresh
table. moto serves one request at a time and copies the table for each transaction, so contended
latency here is mostly the emulator's queue; what must hold exactly is 0 oversold and 0 overbooked.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Any

from bench.setup import dynamodb_process
from bench.stats import percentile
from devtools import flash_sale
from devtools.process import forget_process_state


def _fresh_table(endpoint: str, name: str) -> str:
    from chalicelib.store.client import dynamodb
    from devtools.seed import ensure_table

    os.environ["DROPFRONT_DYNAMODB_ENDPOINT"] = endpoint
    os.environ["DROPFRONT_TABLE"] = name
    forget_process_state()
    ensure_table(dynamodb(), name)
    return name


def _progress(total: int) -> Any:
    step = max(total // 20, 1)

    def report(done: int) -> None:
        if done % step == 0 or done == total:
            filled = done * 30 // total
            sys.stdout.write(f"\r  flash sale [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} buyers")
            sys.stdout.flush()
            if done == total:
                sys.stdout.write("\n")

    return report


def measure(units: int = 500, buyers: int = 2000, threads: int = 32, baseline_bookings: int = 40) -> dict[str, Any]:
    os.environ["DROPFRONT_DYNAMODB_READ_TIMEOUT"] = "120"  # the emulator's queue, not an outage
    os.environ["DROPFRONT_STOCK_CACHE_SECONDS"] = "1"
    now = datetime.now(UTC)
    with dynamodb_process() as endpoint:
        table = _fresh_table(endpoint, "flash-baseline")
        alone = flash_sale.FlashSale(units=units, buyers=baseline_bookings, threads=1)
        flash_sale.run(alone, flash_sale.prepare(table, alone, now), now)
        table = _fresh_table(endpoint, "flash-sale")
        sale = flash_sale.FlashSale(units=units, buyers=buyers, threads=threads)
        flash_sale.run(sale, flash_sale.prepare(table, sale, now), now, _progress(buyers))
        result = flash_sale.audit(table, now)
    baseline_ms = percentile(alone.latencies, 0.5) * 1000
    p50_ms, p99_ms = (percentile(sale.latencies, q) * 1000 for q in (0.5, 0.99))
    return {
        "units": units,
        "buyers": buyers,
        "threads": threads,
        "outcomes": dict(sale.outcomes),
        "seconds": round(sale.seconds, 1),
        "bookings_per_s": round(sale.outcomes["booked"] / sale.seconds, 1),
        "requests_per_s": round(buyers / sale.seconds, 1),
        "booking_p50_ms": round(p50_ms, 1),
        "booking_p99_ms": round(p99_ms, 1),
        "uncontended_p50_ms": round(baseline_ms, 1),
        "p99_ratio": round(p99_ms / baseline_ms, 1),
        "sold": result.sold,
        "oversold": result.oversold(),
        "overbooked": result.overbooked(sale.capacity),
        "bookings_recorded": result.bookings,
        "counter_booked": result.booked_counter,
    }


if __name__ == "__main__":
    from devtools.embedded_dynamodb import use_fake_credentials

    use_fake_credentials()
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", "bench-key")
    print(measure(*(int(a) for a in sys.argv[1:])))
