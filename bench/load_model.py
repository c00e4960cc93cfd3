"""A flash sale on DynamoDB, simulated (issue 21's load model): what the hot stock item does to a
300-piece drop opening to 20,000 phones, with the stock split over 1, 4, 16 or 64 shards and a
waiting room on or off. ``python -m bench.load_model`` prints the table; `make bench` records it.

The booking's work is the app's own, counted from its code path (``booking_profile``: one booking
through ``devtools.flash_sale.one_booking`` against moto, every DynamoDB call recorded), not assumed.
DynamoDB is modelled from its published limits (the sources and every assumption are in
docs/design.md, "Load model"):

- each item takes at most ``ITEM_WCU`` write units a second; a transactional write costs two units
  per item (each under 1 KB), and a write refused by its condition costs the same;
- a transaction holds its items for ``TRANSACTION_MS``; another transaction on one of them meanwhile
  is cancelled with TransactionConflict (its units spent all the same);
- past an item's units in a second, a write is throttled; botocore's standard mode retries it;
- the table takes at most ``TABLE_WCU`` a second (a new on-demand table's starting throughput).

The app answers a conflict as ``store/client.transact`` does (full-jitter backoff, six tries, within
the request's time), a throttle as botocore does (three attempts), then 503; a shopper who gets a
503 tries again after Retry-After, a few times. With shards, a booking picks one of its size's shards
with stock at random and tries another when that one is empty. The waiting room admits shoppers in
arrival order at ``ADMIT_PER_S``; only admitted ones reach the stock.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.store.client import CONFLICT_ATTEMPTS, backoff

ITEM_WCU = 1_000  # per item (partition) and second: DynamoDB's partition write throughput
TABLE_WCU = 4_000  # a new on-demand table's starting write throughput (doubles after a sustained peak)
WCU_PER_TRANSACTED_ITEM = 2  # TransactWriteItems: two write units per item of up to 1 KB
TRANSACTION_MS = 15.0  # how long a committing transaction holds its items (assumed; see docs)
READ_MS = 4.0  # one read round trip inside the region (assumed, single-digit ms as published)
THROTTLE_ATTEMPTS = 3  # botocore's standard retry mode, as the app configures it
THROTTLE_BASE_S = 0.05  # botocore standard mode: min(20 s, random × 2^attempt × 50 ms)
REQUEST_BUDGET_S = 9.75  # Lambda's 10 s timeout less the app's margin
RETRY_AFTER_S = 1.0
PATIENCE = 5  # 503s a shopper takes before giving up
ADMIT_PER_S = 150  # the waiting room's admission rate when on


@dataclass(frozen=True)
class BookingProfile:
    """What one booking does to DynamoDB, counted from the code path."""

    reads: int  # round trips before the transaction (queries, gets)
    transaction_items: int  # items written in the booking's one TransactWriteItems
    other_writes: int  # single-item writes outside it
    shared: dict[str, int] = field(default_factory=dict)  # partitions every booking writes → items it picks among
    calls: dict[str, int] = field(default_factory=dict)


PROFILED_BOOKINGS = 64


def _partitions(params: dict[str, Any]) -> dict[str, str]:
    """Each transacted item's partition key → its sort key."""
    found = {}
    for action in params["TransactItems"]:
        (body,) = action.values()
        key = body.get("Key") or {name: body["Item"][name] for name in ("pk", "sk")}
        found[key["pk"]["S"]] = key["sk"]["S"]
    return found


def booking_profile(shards: int = 1) -> BookingProfile:
    """Bookings through the app's path against moto (in-process), with the drop's stock on
    ``shards`` items per size, every DynamoDB call recorded: the calls of one, and which partitions
    all of them write (besides the size's stock and the slot, which the model places itself) with
    how many items each spreads over. A sharded booking first reads its size's shards."""
    import os

    from moto import mock_aws

    from chalicelib.store.client import dynamodb
    from devtools import flash_sale
    from devtools.embedded_dynamodb import use_fake_credentials
    from devtools.process import forget_process_state
    from devtools.seed import ensure_table

    use_fake_credentials()
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", "bench-key")
    os.environ["DROPFRONT_TABLE"] = "load-model"
    os.environ.pop("DROPFRONT_DYNAMODB_ENDPOINT", None)
    calls: list[list[tuple[str, dict[str, Any]]]] = []
    with mock_aws():
        forget_process_state()
        ensure_table(dynamodb(), "load-model")
        now = datetime.now(UTC)
        sale = flash_sale.FlashSale(units=2 * PROFILED_BOOKINGS, buyers=PROFILED_BOOKINGS, threads=1, shards=shards)
        slots = flash_sale.prepare("load-model", sale, now)
        flash_sale.one_booking(slots[0], "warm", now)  # the catalog and policy caches, as a warm Lambda has them

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            calls[-1].append((model.name, params))

        dynamodb().meta.events.register("provide-client-params.dynamodb", record)
        for n in range(PROFILED_BOOKINGS):
            calls.append([])
            status, body = flash_sale.one_booking(slots[n % len(slots)], f"profiled-{n}", now)
            assert status == 201, body
        dynamodb().meta.events.unregister("provide-client-params.dynamodb", record)
        forget_process_state()
    names = Counter(name for name, _ in calls[0])
    transactions = [[params for name, params in booking if name == "TransactWriteItems"] for booking in calls]
    assert all(len(one) == 1 for one in transactions), names
    written = [_partitions(one[0]) for one in transactions]
    every = set.intersection(*(set(w) for w in written)) - {
        pk for pk in written[0] if pk.startswith(("STOCK#", "SLOT#"))
    }
    writes = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
    return BookingProfile(
        reads=sum(n for name, n in names.items() if name not in writes and name != "TransactWriteItems"),
        transaction_items=len(transactions[0][0]["TransactItems"]),
        other_writes=sum(names[name] for name in writes),
        shared={  # a partition where each booking writes its own item (an outbox message) is not hot
            pk.split("#")[0]: spread
            for pk in sorted(every)
            if (spread := len({w[pk] for w in written})) < PROFILED_BOOKINGS
        },
        calls=dict(names),
    )


@dataclass(frozen=True)
class Scenario:
    units: int = 300
    shoppers: int = 20_000
    arrival_s: float = 60.0  # the launch minute
    sale_s: float = 300.0  # when the sale "ends" for the unsold count
    shards: int = 1
    sizes: int = 5
    slots: int = 40  # the pickup slots bookings spread over (each a slot item in the transaction)
    waiting_room: bool = False
    one_counter_item: bool = False  # as before the counters were spread: each shared partition one item


@dataclass
class _Meter:
    """Write units spent per second against a capacity (an item's, or the table's)."""

    capacity: int = ITEM_WCU
    second: int = -1
    used: int = 0  # write units spent in ``second``

    def charge(self, now: float, units: int) -> bool:
        """Spend ``units`` in the current second; False (throttled) past the capacity."""
        if int(now) != self.second:
            self.second, self.used = int(now), 0
        if self.used + units > self.capacity:
            return False
        self.used += units
        return True


@dataclass
class _Item(_Meter):
    busy_until: float = 0.0  # a committing transaction holds the item until then


@dataclass
class _Result:
    booked_at: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Try:
    """One shopper's booking request, as it goes through the app: retries change it, by ``replace``."""

    size: int
    started: float  # when this request was sent (its booking time counts from here)
    tries: int = 0  # 503s the shopper has had so far
    deadline: float = 0.0  # the request's time budget ends
    attempt: int = 0  # transactions cancelled for a conflict so far
    throttled: int = 0  # attempts throttled so far (botocore's retries)


class Simulation:
    """Shoppers as events on one clock; the store as items with capacity and locks."""

    def __init__(self, scenario: Scenario, profile: BookingProfile, seed: int = 21) -> None:
        self.s, self.p = scenario, profile
        self.rng = random.Random(seed)
        self.stock = [_split(units, scenario.shards) for units in _split(scenario.units, scenario.sizes)]
        self.items: dict[tuple[str, int, int], _Item] = {}
        self.table = _Meter(TABLE_WCU)
        self.events: list[tuple[float, int, str, _Try]] = []
        self.order = 0
        self.result = _Result()

    def _item(self, key: tuple[str, int, int]) -> _Item:
        return self.items.setdefault(key, _Item())

    def _at(self, when: float, kind: str, booking: _Try) -> None:
        self.order += 1
        heapq.heappush(self.events, (when, self.order, kind, booking))

    def run(self) -> dict[str, Any]:
        s = self.s
        arrivals = sorted(self.rng.uniform(0, s.arrival_s) for _ in range(s.shoppers))
        for n, arrives in enumerate(arrivals):  # the waiting room admits in arrival order, at its rate
            admitted = max(arrives, n / ADMIT_PER_S) if s.waiting_room else arrives
            self._at(admitted, "request", _Try(self.rng.randrange(s.sizes), admitted))
        while self.events:
            now, _, kind, booking = heapq.heappop(self.events)
            if now > s.sale_s:
                break
            (self._request if kind == "request" else self._transact)(now, booking)
        left = sum(sum(shards) for shards in self.stock)
        booked = self.result.booked_at
        span = (max(booked) - min(booked)) if len(booked) > 1 else 0.0
        answered = sum(self.result.answers.values())
        return {
            "shards": s.shards,
            "waiting_room": s.waiting_room,
            "one_counter_item": s.one_counter_item,
            "booked": len(booked),
            "bookings_per_s": round(len(booked) / span, 1) if span else float(len(booked)),
            "p99_booking_ms": round(_p99(self.result.latencies) * 1000) if self.result.latencies else None,
            "share_503": round(self.result.answers["503"] / answered, 3) if answered else 0.0,
            "units_unsold": left,
            "answers": dict(self.result.answers),
        }

    def _request(self, now: float, booking: _Try) -> None:
        """A booking request reaches the app: its reads, then its transaction."""
        read = now + self.p.reads * READ_MS / 1000
        if sum(self.stock[booking.size]) == 0:
            self._answer(read, "sold_out", booking)
            return
        self._at(read, "transact", replace(booking, deadline=now + REQUEST_BUDGET_S, attempt=0, throttled=0))

    def _transact(self, now: float, booking: _Try) -> None:
        shards = [i for i, units in enumerate(self.stock[booking.size]) if units > 0]
        if not shards:
            self._answer(now, "sold_out", booking)
            return
        shard = self.rng.choice(shards)
        hot = [("stock", booking.size, shard), ("slot", self.rng.randrange(self.s.slots), 0)]
        hot += [
            (name, self.rng.randrange(1 if self.s.one_counter_item and name == "NUMBERS" else spread), 0)
            for name, spread in self.p.shared.items()
        ]
        units = WCU_PER_TRANSACTED_ITEM
        total = units * self.p.transaction_items
        if not all(self._item(key).charge(now, units) for key in hot) or not self.table.charge(now, total):
            if booking.throttled + 1 >= THROTTLE_ATTEMPTS:
                return self._unavailable(now, booking)
            wait = self.rng.uniform(0, THROTTLE_BASE_S * 2**booking.throttled)
            self._at(now + wait, "transact", replace(booking, throttled=booking.throttled + 1))
            return
        done = now + TRANSACTION_MS / 1000
        if any(self._item(key).busy_until > now for key in hot):  # another transaction holds one
            wait = backoff(booking.attempt, self.rng)  # as store/client.transact waits
            if booking.attempt + 1 >= CONFLICT_ATTEMPTS or done + wait >= booking.deadline:
                return self._unavailable(done, booking)
            self._at(done + wait, "transact", replace(booking, attempt=booking.attempt + 1))
            return
        for key in hot:
            self._item(key).busy_until = done
        self.stock[booking.size][shard] -= 1
        self.result.booked_at.append(done)
        self._answer(done, "201", booking)

    def _unavailable(self, now: float, booking: _Try) -> None:
        self._answer(now, "503", booking)
        if booking.tries + 1 < PATIENCE:
            retry = now + RETRY_AFTER_S
            self._at(retry, "request", replace(booking, tries=booking.tries + 1, started=retry))

    def _answer(self, now: float, answer: str, booking: _Try) -> None:
        self.result.answers[answer] += 1
        if answer == "201":
            self.result.latencies.append(now - booking.started)


def _split(total: int, parts: int) -> list[int]:
    """``total`` over ``parts`` as evenly as whole units go."""
    each, extra = divmod(total, parts)
    return [each + (1 if i < extra else 0) for i in range(parts)]


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 100 else max(values)


def scenarios() -> Iterator[Scenario]:
    for one_item in (False, True):
        for room in (False, True):
            for shards in (1, 4, 16, 64):
                yield Scenario(shards=shards, waiting_room=room, one_counter_item=one_item)


def measure() -> dict[str, Any]:
    """The table's runs, each with the booking's work as the app does it for its shard count (one
    item, or shards: counted at 8, which reads and writes as any count above one does)."""
    profiles = {False: booking_profile(1), True: booking_profile(8)}
    return {
        "profile": {
            ("sharded" if sharded else "unsharded"): {
                "reads": found.reads,
                "transaction_items": found.transaction_items,
                "other_writes": found.other_writes,
                "shared_partitions": found.shared,
                "calls": found.calls,
            }
            for sharded, found in profiles.items()
        },
        "runs": [Simulation(scenario, profiles[scenario.shards > 1]).run() for scenario in scenarios()],
    }


def table(figures: dict[str, Any]) -> str:
    lines = [
        "| counters | shards | waiting room | booked | bookings/s | p99 booking | 503 share | units unsold |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in figures["runs"]:
        lines.append(
            f"| {'one item (before)' if run['one_counter_item'] else 'spread (now)'} | {run['shards']} | "
            f"{'on' if run['waiting_room'] else 'off'} | {run['booked']} | "
            f"{run['bookings_per_s']} | {run['p99_booking_ms']} ms | {run['share_503']:.1%} | {run['units_unsold']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    out = parser.parse_args().out
    figures = measure()
    print(f"a booking, as the code path makes it: {figures['profile']}\n\n{table(figures)}")
    if out:
        out.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
