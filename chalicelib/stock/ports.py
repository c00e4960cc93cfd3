"""The stock port: what a stock item, a hold and a booking are, the refusals, and the stores they need.

A stock item is one (drop, SKU, size, location). ``available = on_hand - held - sold`` is stored and
every write keeps it true. ``held`` is the sum of the live holds (try-ons, short checkout holds);
``sold`` counts booked pickups and till sales. Booked pickups stay sold when picked up and return to
available when cancelled or missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from chalicelib.core.errors import Conflict
from chalicelib.core.models import Line


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


class KeyAlreadyUsed(Exception):
    """The idempotency key already has a record: answer from it."""


class CodeTaken(Exception):
    """The booking code is in use (a 1 in 10^11 draw): pick another."""


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    qty: int
    expires_at: int  # epoch seconds; the hold is live while now < expires_at


@dataclass(frozen=True)
class SlotClaim:
    popup: str
    start: str  # ISO 8601 UTC, the slot item's sort key
    end: str
    capacity: int


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    request_hash: str
    response: dict[str, Any]  # the JSON body the first request got, answered again byte for byte
    expires_at: int  # epoch seconds (the table's TTL attribute; readers check it too)


@dataclass(frozen=True, slots=True)
class BookedLine:
    """A booked line as priced when it was booked."""

    sku: str
    size: str
    qty: int
    list_minor: int
    unit_minor: int
    line_minor: int
    decision_id: str


@dataclass(frozen=True, slots=True)
class ContactDetails:
    name: str
    email: str


@dataclass(frozen=True)
class Booking:
    """A pickup booking as stored: what was booked where and when, at what price, for whom."""

    code: str
    drop: str
    popup: str
    timezone: str
    slot_start: str  # ISO 8601 UTC
    slot_end: str
    items: tuple[BookedLine, ...]
    total_minor: int
    currency: str
    contact: ContactDetails
    visitor: str
    state: BookingState
    booked_at: str
    numbers: Mapping[str, int] = field(default_factory=dict)  # what it added to the studio's counters
    spend: Mapping[str, int] = field(
        default_factory=dict
    )  # budget granted per "<rule>@<currency>", given back on cancel
    left_at: str | None = None  # when it left ``booked`` (cancelled, picked up or missed)

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(Line(item.sku, item.size, item.qty) for item in self.items)


class HoldReleaser(Protocol):
    def release_expired(self, ref: StockRef, now: datetime) -> int: ...


class HoldStore(Protocol):
    def release_expired_in_drop(self, slug: str, now: datetime) -> int: ...


class BookingStore(Protocol):
    def idempotency_record(self, key: str, now_epoch: int) -> IdempotencyRecord | None: ...

    def booking(self, code: str) -> Booking | None: ...

    def slot_bookings(self, popup: str, first: str, last: str) -> dict[str, int]: ...

    def book(self, booking: Booking, slot: SlotClaim, record: IdempotencyRecord, day: date, now_epoch: int) -> None: ...

    def leave_booked(self, booking: Booking, to: BookingState, at_iso: str, day: date) -> bool: ...
