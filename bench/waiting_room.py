"""The waiting room under a launch crowd, in one process on moto: what waiting costs in DynamoDB
requests, how long a view's admission check takes, and whether shoppers are let in in the order
they came.

5,000 shoppers open the drop over its first 10 seconds (500 a second) in one process, and each
re-checks every 5 seconds (the queue page's shortest refresh) until let in, at 600 a minute. The
clock is simulated (every call is given its moment); DynamoDB is moto's, in process, with the real
adapter. Reported: writes and reads per arrival and per re-check, the p50 and p99 CPU time of
``WaitingRooms.enter`` (the room's part of a view), and the arrival order of those let in.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.stats import percentile

SHOPPERS = 5_000
ARRIVAL_SECONDS = 10.0
RECHECK_SECONDS = 5.0
PER_MINUTE = 600


def measure() -> dict[str, Any]:
    from moto import mock_aws

    from chalicelib.core import records
    from chalicelib.core.models import Drop, WaitingRoom
    from chalicelib.store.arrivals import DynamoArrivals
    from chalicelib.store.client import dynamodb
    from chalicelib.waiting.admission import WaitingRooms
    from chalicelib.waiting.tickets import ticket_cookie_name
    from devtools.embedded_dynamodb import FAKE_CREDENTIALS
    from devtools.seed import ensure_table

    os.environ.update(FAKE_CREDENTIALS)
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", "bench-key")
    os.environ.setdefault("DROPFRONT_TABLE", "bench-room")
    os.environ.pop("DROPFRONT_DYNAMODB_ENDPOINT", None)  # moto in process
    opens = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    drop = records.validate(
        Drop,
        {
            "slug": "launch",
            "name": {"en": "Launch"},
            "tagline": {"en": "-"},
            "description": {"en": "-"},
            "starts_at": opens,
            "ends_at": opens + timedelta(days=1),
            "markets": [{"id": "eu", "countries": ["FR"], "currency": "EUR", "locales": ["en"], "timezone": "UTC"}],
            "location_ids": ["paris"],
            "waiting_room": WaitingRoom(admit_per_minute=PER_MINUTE, minutes=60),
        },
    )
    with mock_aws():
        ensure_table(dynamodb(), "bench-room")
        calls = {"writes": 0, "reads": 0}

        def count(model: Any, **_: Any) -> None:
            calls["reads" if model.name in ("Query", "GetItem") else "writes"] += 1

        dynamodb().meta.events.register("before-call.dynamodb", count)
        rooms = WaitingRooms(DynamoArrivals("bench-room"), cache_seconds=1.0)
        # (when, shopper): each shopper's next view; a shopper keeps the ticket cookie it was given.
        views = [(opens.timestamp() + ARRIVAL_SECONDS * i / SHOPPERS, i) for i in range(SHOPPERS)]
        heapq.heapify(views)
        tickets: dict[int, str] = {}
        let_in: list[int] = []
        cpu: list[float] = []
        out_of_order, highest_let_in = 0, -1  # a ticket refused after a later one was let in
        arrivals = rechecks = 0
        last_let_in = opens.timestamp()
        arrival_calls = {"writes": 0, "reads": 0}
        while views:
            at, shopper = heapq.heappop(views)
            cookie = tickets.get(shopper)
            before = dict(calls)
            started = time.process_time()
            entry = rooms.enter(drop, f"visitor-{shopper:05d}", cookie, datetime.fromtimestamp(at, UTC))
            cpu.append(time.process_time() - started)
            assert entry is not None
            if cookie is None:
                arrivals += 1
                header = next(c for c in entry.cookies if c.startswith(ticket_cookie_name("launch")))
                tickets[shopper] = header.split(";")[0]
                for kind in arrival_calls:
                    arrival_calls[kind] += calls[kind] - before[kind]
            else:
                rechecks += 1
            if entry.place.admitted:
                let_in.append(shopper)
                last_let_in = at
                highest_let_in = max(highest_let_in, shopper)
            else:
                out_of_order += highest_let_in > shopper
                heapq.heappush(views, (at + RECHECK_SECONDS, shopper))
    recheck_calls = {kind: calls[kind] - arrival_calls[kind] for kind in calls}
    seconds_to_let_all_in = (last_let_in - opens.timestamp()) if let_in else None
    return {
        "shoppers": SHOPPERS,
        "arrivals_per_second": SHOPPERS / ARRIVAL_SECONDS,
        "admit_per_minute": PER_MINUTE,
        "rechecks": rechecks,
        "writes_per_arrival": round(arrival_calls["writes"] / arrivals, 4),
        "reads_per_arrival": round(arrival_calls["reads"] / arrivals, 4),
        "writes_per_recheck": round(recheck_calls["writes"] / max(rechecks, 1), 4),
        "reads_per_recheck": round(recheck_calls["reads"] / max(rechecks, 1), 4),
        "enter_cpu_p50_us": round(percentile(cpu, 0.5) * 1e6, 1),
        "enter_cpu_p99_us": round(percentile(cpu, 0.99) * 1e6, 1),
        "let_in": len(let_in),
        "refused_after_a_later_ticket_was_let_in": out_of_order,
        "seconds_until_all_let_in": round(seconds_to_let_all_in, 1) if seconds_to_let_all_in else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    out = parser.parse_args().out
    figures = measure()
    print(json.dumps(figures, indent=1))
    if out:
        out.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
