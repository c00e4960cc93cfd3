"""Stock vocabulary and its pure rules: what a stock item is, how lines merge, what counters are kept.

A stock item is one (drop, SKU, size, location). ``available = on_hand - held - sold`` is stored and
every write keeps it true. ``held`` is the sum of the live holds (try-ons, short checkout holds);
``sold`` counts booked pickups and till sales. Booked pickups stay sold when picked up and return to
available when cancelled or missed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from chalicelib.errors import Conflict

BOOKING_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: a code read aloud at a till or typed from a screenshot cannot be misread."""
BOOKING_CODE_LENGTH = 8


@dataclass(frozen=True)
class StockLine:
    """Units made for one SKU, size and location (a seed or an import)."""

    sku: str
    size: str
    location: str
    on_hand: int


class Counter(StrEnum):
    """Day counters kept on each stock item, changed in the same write as what they count (units)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    PICKED_UP = "picked_up"
    NO_SHOW = "no_show"
    TILL_SOLD = "till_sold"
    TILL_REVENUE = "till_revenue"  # minor units, in the pop-up's currency


class BookingState(StrEnum):
    BOOKED = "booked"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


@dataclass(frozen=True, slots=True)
class StockRef:
    slug: str
    sku: str
    size: str
    location: str


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    size: str
    qty: int


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    size: str
    requested: int
    available: int
    releasable: int = 0  # units held by holds that have expired but are not yet released


class OutOfStock(Conflict):
    code = "out_of_stock"

    def __init__(self, shortages: Iterable[Shortage]) -> None:
        self.shortages = tuple(shortages)
        super().__init__(
            "Not enough stock for: " + ", ".join(f"{s.sku} {s.size}" for s in self.shortages) + ".",
            details={"lines": [{k: v for k, v in asdict(s).items() if k != "releasable"} for s in self.shortages]},
        )


class SlotFull(Conflict):
    code = "slot_full"


def merge_lines(lines: Iterable[Line]) -> tuple[Line, ...]:
    """One line per (SKU, size), quantities summed, in first-seen order (a transaction may touch an
    item only once)."""
    merged: dict[tuple[str, str], int] = {}
    for line in lines:
        merged[(line.sku, line.size)] = merged.get((line.sku, line.size), 0) + line.qty
    return tuple(Line(sku, size, qty) for (sku, size), qty in merged.items())


def counter_attribute(counter: StrEnum, day: date) -> str:
    """The attribute that counts ``counter`` on ``day`` (the location's local date): a stock item's
    ``Counter`` or a funnel item's step."""
    return f"{counter.value}@{day.isoformat()}"


def local_day(zone: str, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def new_booking_code() -> str:
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(BOOKING_CODE_LENGTH))
