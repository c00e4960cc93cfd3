"""A flash sale: many buyers booking one pop-up's last units at once, then an audit of the table.

The concurrency test and `make bench` both run it, against a DynamoDB endpoint over a real socket.
Every buyer goes through the app's own booking path (pricing, idempotency, the transaction).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter as Tally
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import wiring
from chalicelib.core.errors import DomainError
from chalicelib.core.models import local_day
from chalicelib.shop.ports import Edge
from chalicelib.shop.shopper import open_drop
from chalicelib.stock.checkout import HoldRequest, HoldRules, place_hold, release_own_hold
from chalicelib.stock.counters import Counter
from chalicelib.stock.pickup import PickupRequest, book_pickup
from chalicelib.stock.ports import StockRef
from chalicelib.stock.slots import day_slots
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute, from_item
from chalicelib.store.client import call, paginate
from chalicelib.tryon.conversion import held_for
from chalicelib.web.errors import status_for
from devtools.seed import DemoDrop, demo_drops, seed

POPUP = "paris-marais"
SKU, SIZE = "TOTE-ECRU", "OS"
SLOTS = 20
VIEWER = Edge(None, None, None, None, None, None, None, None, None)


@dataclass
class FlashSale:
    units: int
    buyers: int
    threads: int
    shards: int = 1  # stock items the size is spread over (``Drop.stock_shards``)
    holding: float = 0.0  # the share of buyers who hold the piece first, as the drop page's form does
    slots: int = SLOTS  # pickup slots buyers choose from
    places: int | None = None  # places per slot (None: 20 % more places than units, over the slots)
    outcomes: Tally[str] = field(default_factory=Tally)
    latencies: list[float] = field(default_factory=list)  # seconds, per successful booking
    codes: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def capacity(self) -> int:
        """Places per slot: 20 % more places than units, so both stock and slots run out somewhere."""
        return self.places or -(-self.units * 6 // (5 * self.slots))


def prepare(table: str, sale: FlashSale, now: datetime) -> list[str]:
    """Seed the demo drop cut down to the one SKU on sale, with ``units`` of it at the pop-up and
    ``capacity`` places per slot; returns the slots buyers choose from. (moto copies every table for
    each transaction, so the rest of the demo would only slow the emulator, not the app.)"""
    drops: list[DemoDrop] = []
    for demo in demo_drops(now):
        locations = tuple(
            replace(loc, pickup=replace(loc.pickup, capacity=sale.capacity)) if loc.id == POPUP and loc.pickup else loc
            for loc in demo.catalog.locations
        )
        stock = tuple(
            replace(row, on_hand=sale.units) if (row.sku, row.size, row.location) == (SKU, SIZE, POPUP) else row
            for row in demo.stock
            if row.sku == SKU
        )
        skus = tuple(sku for sku in demo.catalog.skus if sku.sku == SKU)
        drop = replace(demo.catalog.drop, stock_shards=sale.shards)
        catalog = replace(demo.catalog, drop=drop, locations=locations, skus=skus)
        drops.append(replace(demo, catalog=catalog, stock=stock))
    seed(table, now, drops)
    for demo in drops:  # spread each size over its shards, as the studio does when it raises the count
        wiring.stock().rebalance(demo.catalog.drop.slug, demo.catalog.drop.generation, sale.shards)
    popup = next(loc for d in drops for loc in d.catalog.locations if loc.id == POPUP)
    assert popup.pickup is not None
    day = local_day(popup.timezone, now) + timedelta(days=1)
    starts = [s.local_start(ZoneInfo(popup.timezone)).isoformat() for s in day_slots(popup, popup.pickup, day)]
    return starts[: sale.slots]


def one_booking(slot: str, key: str, now: datetime, *, hold_first: bool = False) -> tuple[int, dict[str, Any]]:
    """A buyer's booking through the app's path; (status, body) as the API would answer. With
    ``hold_first`` the buyer first holds the piece (as the drop page's form does) and the booking
    converts that hold."""
    order: dict[str, Any] = {
        "drop": "linen-lab",
        "popup": POPUP,
        "slot_start": slot,
        "items": [{"sku": SKU, "size": SIZE, "qty": 1}],
        "contact": {"name": "Flash Buyer", "email": f"buyer-{key}@example.org"},  # each buyer their own
    }
    visitor = f"buyer-{key}"
    hold = None
    try:
        if hold_first:
            wanted = HoldRequest.model_validate({k: order[k] for k in ("drop", "popup", "items")})
            hold = place_hold(wiring.holds(), wiring.catalog(), visitor, wanted, HoldRules(10, 2), now)
            order["hold_id"] = hold.hold_id
        request = PickupRequest.model_validate(order)
        shopper = open_drop(wiring.catalog(), "linen-lab", VIEWER, now, with_tokens=False)
        holding = held_for(wiring.holds(), wiring.tryons(), request, visitor, now)
        answer = book_pickup(wiring.bookings(), wiring.stock(), shopper, request, key, now, holding)
    except DomainError as error:
        if hold is not None:  # the slot was full: the buyer lets go of the piece, as the page offers
            release_own_hold(wiring.holds(), visitor, hold, now)
        return status_for(error), {"code": error.code}
    return 201, answer.body


def run(sale: FlashSale, slots: list[str], now: datetime, progress: Callable[[int], None] | None = None) -> None:
    """``buyers`` buyers at ``threads`` at a time, each on a random slot; one in twenty retries its
    request with the same key (a lost reply) and must get the same answer."""
    chooser = random.Random(7)
    plan = [
        (chooser.choice(slots), uuid.uuid4().hex, chooser.random() < 0.05, chooser.random() < sale.holding)
        for _ in range(sale.buyers)
    ]
    lock = threading.Lock()
    done = 0

    def buyer(step: tuple[str, str, bool, bool]) -> None:
        nonlocal done
        slot, key, retries, hold_first = step
        started = time.perf_counter()
        status, body = one_booking(slot, key, now, hold_first=hold_first)
        elapsed = time.perf_counter() - started
        if retries and not hold_first:  # a holder's retry would hold anew: a different request
            again = one_booking(slot, key, now)
            if again != (status, body) and status == 201:
                raise AssertionError(f"a retry with key {key} answered {again}, not {status}")
            status, body = again  # a failed first try may book on the retry: a let-go hold came back
        with lock:
            done += 1
            if status == 201:
                sale.outcomes["booked"] += 1
                sale.latencies.append(elapsed)
                sale.codes.add(body["code"])
            else:
                sale.outcomes[body["code"]] += 1
            if progress:
                progress(done)

    wiring.catalog().drop("linen-lab")  # build the client and warm the catalog before the crowd
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sale.threads) as pool:
        list(pool.map(buyer, plan))
    sale.seconds = time.perf_counter() - started


@dataclass(frozen=True)
class Audit:
    on_hand: int
    sold: int
    available: int
    held: int
    booked_counter: int
    bookings: int
    slot_places: dict[str, int]  # per slot start
    slot_items: dict[str, int]  # per slot item (a sharded slot has several)

    def oversold(self) -> int:
        return max(self.sold - self.on_hand, 0) + max(-self.available, 0)

    def overbooked(self, capacity: int) -> int:
        return sum(max(taken - capacity, 0) for taken in self.slot_places.values())


def audit(table: str, now: datetime) -> Audit:
    """What the table says after the sale, read consistently (a sharded size's shards summed)."""
    shards = wiring.stock().shard_items(StockRef("linen-lab", 0, SKU, SIZE, POPUP)).values()
    assert shards, "the size's stock is missing"
    stock = {name: sum(item.get(name, 0) for item in shards) for name in ("on_hand", "sold", "available", "held")}
    booked = counter_attribute(Counter.BOOKED, local_day("Europe/Paris", now))
    stock[booked] = sum(item.get(booked, 0) for item in shards)
    bookings = 0
    places: dict[str, int] = {}
    items: dict[str, int] = {}
    for raw in paginate(call, "scan", TableName=table, ConsistentRead=True):
        item = from_item(raw)
        if item[schema.PK].startswith("BOOKING#") and item["state"] == "booked":
            bookings += 1
        elif item[schema.PK] == schema.slot_partition(POPUP):
            items[item[schema.SK]] = item["booked"]
            start = item[schema.SK].partition("#")[0]  # a sharded slot's items add up
            places[start] = places.get(start, 0) + item["booked"]
    return Audit(
        on_hand=stock["on_hand"],
        sold=stock["sold"],
        available=stock["available"],
        held=stock["held"],
        booked_counter=stock[booked],
        bookings=bookings,
        slot_places=places,
        slot_items=items,
    )
