"""The demo's previous drop and its fortnight: `make run` seeds it so the studio's numbers show
something real on first run.

``canvas-capsule`` ran for two weeks at two pop-ups of its own (Lyon and Berlin) and online, and
ended two days before the seeding. Its days are simulated with a fixed seed: shoppers view the drop
(some from a creator's campaign link) and book pickups, tills ring up sales (half with a receipt
email, and regulars come back), door counters count, QR tags are scanned and garments tried on,
and about one piece in twelve comes back, some exchanged for another size.

Each event is priced and counted by the app's own pure code (the shopper's offer from
``open_drop`` at that moment, ``booking_counts`` and ``till_sale_counts``, ``returns_counters``)
and customers are seen through ``see_customers``; but the counters are then written added up, one
update per stock item, funnel item and counter chunk, instead of one transaction per event: played
one by one on the embedded DynamoDB, whose transactions copy the table, the fortnight took a minute.
So the numbers are exactly what those events would have left, and `make run` starts in seconds.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import wiring
from chalicelib.core.models import DropCatalog, Location, Sku, iso, local_day
from chalicelib.customers.book import see_customers
from chalicelib.customers.ports import Sighting
from chalicelib.pricing.counters import (
    FULL_PRICE,
    TILL,
    PlaceDay,
    SoldLine,
    booking_counts,
    exposure_counts,
    till_sale_counts,
)
from chalicelib.pricing.experiments import assign
from chalicelib.shop.ports import Edge
from chalicelib.shop.shopper import open_drop
from chalicelib.shop.storefront import popup_currency
from chalicelib.shop.visitors import campaign_link
from chalicelib.stock.counters import Counter as StockCounter
from chalicelib.stock.limits import customer_key
from chalicelib.stock.ports import StockRef
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute
from chalicelib.store.client import add_counters, dynamodb
from chalicelib.store.returns import returns_counters
from chalicelib.store.stock import ref_key
from chalicelib.tills.ports import ReturnClaim, ReturnReason, SoldPiece
from chalicelib.tills.sales import FootfallBatch, record_footfall
from chalicelib.tryon.ports import FunnelStep
from devtools.seed import DemoDrop, demo_drops, seed

HISTORY_FILE = Path(__file__).with_name("history_drop.json")
SLUG = "canvas-capsule"
DAYS = 14
REGULARS = tuple(
    f"{name}@example.org" for name in ("ines", "jonas", "lea", "malik", "nora", "otto", "paula", "quentin")
)
"""A few regulars (the other receipts are one-off addresses): they come back across pop-ups."""
REASONS: tuple[ReturnReason, ...] = ("too_small", "too_large", "fit", "quality", "changed_mind", "other")
CHUNK = 80  # counters per update: DynamoDB's expressions have a size limit


@dataclass
class Day:
    """One day of the drop at one pop-up."""

    popup: Location
    day: date
    rng: random.Random

    def at(self, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.day, time(hour, minute), ZoneInfo(self.popup.timezone)).astimezone(UTC)

    def email(self) -> str:
        """A receipt's or a booking's address: a regular a third of the time."""
        if self.rng.random() < 0.35:
            return self.rng.choice(REGULARS)
        return f"shopper-{self.rng.randrange(10**6):06d}@example.org"


class Ledger:
    """What the fortnight adds up to, per item it is written on."""

    def __init__(self, demo: DemoDrop) -> None:
        self.catalog = demo.catalog
        self.made = {(row.sku, row.size, row.location): row.on_hand for row in demo.stock}
        self.numbers: Counter[str] = Counter()
        self.stock: defaultdict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
        self.funnel: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.sightings: list[Sighting] = []
        self.footfall: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)

    def left(self, sku: str, size: str, popup: str) -> int:
        return self.made.get((sku, size, popup), 0) - self.stock[(sku, size, popup)]["sold"]

    def sold(self, sku: str, size: str, popup: str, counter: StockCounter, day: date, units: int = 1) -> None:
        """Units sold off (> 0) or back on (< 0) a stock item, counted on ``day`` under ``counter``."""
        item = self.stock[(sku, size, popup)]
        item.update({"sold": units, "available": -units, counter_attribute(counter, day): abs(units)})

    def write(self, table: str) -> None:
        client, generation = dynamodb(), self.catalog.drop.generation
        for (sku, size, popup), counts in self.stock.items():
            _add(client, table, ref_key(StockRef(SLUG, generation, sku, size, popup)), counts)
        for (sku, popup), counts in self.funnel.items():
            _add(client, table, schema.funnel_key(SLUG, sku, popup), counts)
        names = sorted(self.numbers)
        for start in range(0, len(names), CHUNK):
            wiring.numbers().add(SLUG, {name: self.numbers[name] for name in names[start : start + CHUNK]})
        see_customers(wiring.customers(), wiring.numbers(), self.sightings)  # in order: firsts come first
        for popup, readings in self.footfall.items():
            batch = FootfallBatch.model_validate({"popup": popup, "counts": readings})
            record_footfall(wiring.catalog(), wiring.tills(), batch)


def _add(client: Any, table: str, key: dict[str, Any], counts: Mapping[str, int]) -> None:
    names = sorted(counts)
    for start in range(0, len(names), CHUNK):
        client.update_item(**add_counters(table, key, {name: counts[name] for name in names[start : start + CHUNK]}))


def seed_history(table: str, now: datetime) -> bool:
    """Seed the previous drop and its fortnight, unless the table has it already. True if it did."""
    if wiring.catalog_store().drop_catalog(SLUG) is not None:
        return False
    (demo,) = demo_drops(now, HISTORY_FILE)
    seed(table, now, [demo], fresh=True)
    ledger = Ledger(demo)
    play(demo, ledger, random.Random(20261205))
    ledger.write(table)
    return True


def play(demo: DemoDrop, ledger: Ledger, rng: random.Random) -> None:
    catalog = demo.catalog
    popups = [place for place in catalog.locations if place.kind == "popup"]
    experiments = demo.pricing.experiments if demo.pricing else ()
    for offset in range(DAYS):
        for popup in popups:
            day = Day(popup, local_day(popup.timezone, catalog.drop.starts_at + timedelta(days=offset, hours=12)), rng)
            busy = 1.6 if day.day.weekday() >= 5 else 1.0  # weekends at the pop-ups
            for _ in range(round(rng.randint(14, 30) * busy)):  # first views of the drop's page
                ledger.numbers.update(
                    exposure_counts(a.label for a in assign(f"{rng.getrandbits(64):016x}", experiments))
                )
            ledger.footfall[popup.id].append(
                {"at": day.at(20).isoformat(), "entered": round(rng.randint(90, 260) * busy)}
            )
            _funnel(catalog, day, ledger, busy)
            for _ in range(rng.randint(1, 3)):
                _booking(catalog, day, ledger)
            for n in range(round(rng.randint(3, 7) * busy)):
                _till_sale(catalog, day, ledger, n)


def _funnel(catalog: DropCatalog, day: Day, ledger: Ledger, busy: float) -> None:
    """QR scans, and of them the try-ons asked for and done."""
    for sku in catalog.skus:
        scans = round(day.rng.randint(2, 7) * busy)
        asked = sum(day.rng.random() < 0.4 for _ in range(scans))
        done = sum(day.rng.random() < 0.8 for _ in range(asked))
        for step, times in (
            (FunnelStep.SCAN, scans),
            (FunnelStep.TRYON_REQUESTED, asked),
            (FunnelStep.TRYON_COMPLETED, done),
        ):
            if times:
                ledger.funnel[(sku.sku, day.popup.id)][counter_attribute(step, day.day)] += times


def _booking(catalog: DropCatalog, day: Day, ledger: Ledger) -> None:
    """A pickup booked in the morning, priced as the shopper's page priced it then, and collected."""
    now = day.at(9, day.rng.randrange(60))
    campaign = campaign_link(cohort="ana") if day.rng.random() < 0.3 else None
    edge = Edge(day.popup.country, day.popup.timezone, None, None, None, None, None, None, day.popup.city)
    shopper = open_drop(wiring.catalog(), SLUG, edge, now, with_tokens=False, campaign=campaign, pickup_at=day.popup.id)
    product = day.rng.choice(shopper.view.products)
    size = day.rng.choice(product.sku.sizes)
    if ledger.left(product.sku.sku, size, day.popup.id) <= 0:
        return  # sold out there: the shopper leaves
    offer, currency = product.offer, shopper.pricer.currency
    cohort = offer.rules[0] if offer.price_minor < offer.list_minor else FULL_PRICE
    line = SoldLine(cohort, 1, offer.list_minor, offer.price_minor, product.sku.costs.get(currency, 0))
    cells = [a.label for a in shopper.assignments]
    ledger.numbers.update(booking_counts([line], currency, cells, PlaceDay(day.popup.id, day.day)))
    ledger.sold(product.sku.sku, size, day.popup.id, StockCounter.BOOKED, day.day)
    ledger.stock[(product.sku.sku, size, day.popup.id)][counter_attribute(StockCounter.PICKED_UP, day.day)] += 1
    ledger.sightings.append(Sighting(customer_key(day.email()), SLUG, day.popup.id, iso(now), purchase=True))


def _till_sale(catalog: DropCatalog, day: Day, ledger: Ledger, n: int) -> None:
    """A sale at the till: at list price, now and then a display piece a tenth off; a receipt email
    half the time; about one in twelve comes back the next day."""
    sku = day.rng.choice(catalog.skus)
    size = day.rng.choice(sku.sizes)
    if ledger.left(sku.sku, size, day.popup.id) <= 0:
        return
    when = day.at(day.rng.randrange(10, 20), day.rng.randrange(60))
    currency = popup_currency(catalog, day.popup)  # what its till rings up in
    list_minor = sku.list_prices[currency]
    price = list_minor * 90 // 100 if day.rng.random() < 0.15 else list_minor
    line = SoldLine(TILL if price < list_minor else FULL_PRICE, 1, list_minor, price, sku.costs.get(currency, 0))
    ledger.numbers.update(till_sale_counts(line, currency, (), PlaceDay(day.popup.id, day.day)))
    ledger.sold(sku.sku, size, day.popup.id, StockCounter.TILL_SOLD, day.day)
    ledger.stock[(sku.sku, size, day.popup.id)][counter_attribute(StockCounter.TILL_REVENUE, day.day)] += price
    if day.rng.random() < 0.5:
        ledger.sightings.append(Sighting(customer_key(day.email()), SLUG, day.popup.id, iso(when), purchase=True))
    if day.rng.random() < 1 / 12:
        _returned(day, ledger, sku, size, when, f"{day.popup.id[:4]}-{day.day.isoformat()}-{n}")


def _returned(day: Day, ledger: Ledger, sku: Sku, size: str, sold_at: datetime, sale_id: str) -> None:
    reason = day.rng.choice(REASONS)
    back = day.day + timedelta(days=1)
    piece = SoldPiece(SLUG, 0, sku.sku, size, day.popup.id, 1, sold_at, ((0, 1),), sku.packaging, ("sale", sale_id))
    claim = ReturnClaim(f"r-{sale_id}", piece, 1, reason, sold_at + timedelta(days=1), day.popup.timezone)
    ledger.numbers.update(returns_counters(claim))
    ledger.sold(sku.sku, size, day.popup.id, StockCounter.RETURNED, back, units=-1)
    others = [other for other in sku.sizes if other != size and ledger.left(sku.sku, other, day.popup.id) > 0]
    if reason in ("too_small", "too_large") and others:
        ledger.sold(sku.sku, day.rng.choice(others), day.popup.id, StockCounter.EXCHANGED, back)
