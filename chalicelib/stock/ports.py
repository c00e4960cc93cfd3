"""The stock port: what a stock item, a hold and a booking are, the refusals, and the stores they need.

A stock item is one (drop, SKU, size, location). ``available = on_hand - held - sold`` is stored and
every write keeps it true. ``held`` is the sum of the live holds (try-ons, short checkout holds);
``sold`` counts booked pickups and till sales. Booked pickups stay sold when picked up and return to
available when cancelled or missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict
from chalicelib.core.models import DropCatalog, Line, Sku
from chalicelib.outbox.ports import QueuedMessage


@dataclass(frozen=True)
class StockLine:
    """Units made for one SKU, size and location (a seed or an import)."""

    sku: str
    size: str
    location: str
    on_hand: int
    shard: int = 0  # which of the size's stock items (``stock/shards.py``)


class BookingState(StrEnum):
    BOOKED = "booked"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


@dataclass(frozen=True, slots=True)
class StockRef:
    slug: str
    generation: int  # the drop's live set of products and stock (``Drop.generation``) when it was taken
    sku: str
    size: str
    location: str
    shard: int = 0  # which of the size's stock items (``stock/shards.py``); 0 when it has one

    def on(self, shard: int) -> StockRef:
        return StockRef(self.slug, self.generation, self.sku, self.size, self.location, shard)


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


@dataclass(frozen=True, slots=True)
class Reserved:
    """What one customer (by email) or one visitor holds booked of a drop, across all their bookings:
    units per (SKU, size) and how many of them were discounted."""

    units: Mapping[tuple[str, str], int] = field(default_factory=dict)
    discounted: int = 0

    def of(self, sku: str, size: str) -> int:
        return self.units.get((sku, size), 0)

    def most(self, other: Reserved) -> Reserved:
        """The larger count of each, so a limit holds for the email and for the cookie alike."""
        keys = set(self.units) | set(other.units)
        return Reserved({k: max(self.of(*k), other.of(*k)) for k in keys}, max(self.discounted, other.discounted))


@dataclass(frozen=True, slots=True)
class BookingLimits:
    """What a booking may not push past, each taken with a condition in the booking's transaction:
    cohort budgets (spend name → budget, minor units), units per SKU and size per customer (0: no
    limit), and discounted units per customer (None: no cap)."""

    budgets: Mapping[str, int] = field(default_factory=dict)
    units_per_size: int = 0
    discounted_units: int | None = None

    def refusal(self, before: Reserved, adding: Reserved) -> Conflict | None:
        """Why ``adding`` to what a customer had ``before`` would break a limit (None if it would not):
        the one check behind the early refusal and the reading of a failed condition."""
        for (sku, size), qty in adding.units.items():
            if self.units_per_size and before.of(sku, size) + qty > self.units_per_size:
                return CustomerLimit(self.units_per_size, sku, size)
        cap = self.discounted_units
        if cap is not None and adding.discounted and before.discounted + adding.discounted > cap:
            return DiscountLimit(cap)
        return None


NO_LIMITS = BookingLimits()


class CustomerLimit(Conflict):
    """The customer (this email, or this visitor) already has as many of these as the drop allows."""

    code = "customer_limit"

    def __init__(self, limit: int, sku: str, size: str) -> None:
        super().__init__(
            f"This drop allows {limit} of each piece and size per customer, earlier bookings included.",
            details={"limit": limit, "sku": sku, "size": size},
        )


class DiscountLimit(Conflict):
    """A race took the customer's last discounted units: the price this booking was made at is gone."""

    code = "discount_limit"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The discount covers {limit} pieces per customer, and yours are used. Reload to see your price.",
            details={"limit": limit},
        )


class BudgetSpent(Conflict):
    """The cohort's discount budget ran out while booking: the price this booking was made at is gone."""

    code = "budget_spent"

    def __init__(self) -> None:
        super().__init__("This discount's budget has just run out. Reload to see your price.")


class KeyAlreadyUsed(Exception):
    """The idempotency key already has a record: answer from it."""


class CodeTaken(Exception):
    """The booking code is in use (a 1 in 10^11 draw): pick another."""


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    qty: int
    expires_at: int  # epoch seconds; the hold is live while now < expires_at
    shard: int = 0  # the stock item it sits on


class PlaceTaken(Exception):
    """One of the visitor's few places (try-ons, checkout holds) was claimed by a concurrent
    request: read the places again."""


@dataclass(frozen=True, slots=True)
class VisitorPlace:
    """One of a visitor's places: the try-on or checkout hold in it, and until when."""

    holder: str
    expires_at: int  # epoch seconds


def free_places(places: Mapping[str, VisitorPlace], prefix: str, limit: int, now_epoch: int) -> list[str]:
    """The visitor's places (``<prefix>0`` … ``<prefix><limit - 1>``) that are empty or whose holder
    has expired: the limit is how many live holds of a kind a visitor may have at once."""
    names = (f"{prefix}{i}" for i in range(limit))
    return [name for name in names if name not in places or places[name].expires_at <= now_epoch]


def line_shard(lines: Sequence[Line], line_shards: Sequence[int], sku: str, size: str) -> int:
    """The shard the line of ``sku`` and ``size`` was taken from (``line_shards`` runs beside
    ``lines``; empty for a size with one stock item, and for records from before shards)."""
    for line, shard in zip(lines, line_shards, strict=False):
        if (line.sku, line.size) == (sku, size):
            return shard
    return 0


class HoldState(StrEnum):
    HELD = "held"
    BOOKED = "booked"  # converted into a booking: its units are the booking's
    RELEASED = "released"  # given back by the shopper


@dataclass(frozen=True)
class CheckoutHold:
    """Units set aside at a pop-up for one visitor while they choose a slot and give their name:
    a few minutes, counted against the visitor's places, converted into a booking or given back."""

    hold_id: str
    drop: str
    generation: int  # the drop's set of stock it holds from
    popup: str
    visitor: str
    lines: tuple[Line, ...]
    place: str  # the visitor's place it occupies ("h0" …)
    state: HoldState
    created_at: str  # ISO 8601 UTC
    expires_at: int  # epoch seconds
    booking: str | None = None  # the booking code it became
    line_shards: tuple[int, ...] = ()  # the stock shard each line is held on (set when placed)

    def is_live(self, now_epoch: int) -> bool:
        return self.state is HoldState.HELD and self.expires_at > now_epoch

    def ref(self, line: Line) -> StockRef:
        shard = line_shard(self.lines, self.line_shards, line.sku, line.size)
        return StockRef(self.drop, self.generation, line.sku, line.size, self.popup, shard)


class HoldGone(Conflict):
    """A hold whose units are no longer set aside for it: it lapsed, or was let go."""

    code = "hold_expired"

    def __init__(self, hold_id: str) -> None:
        super().__init__(
            "Your hold has run out, so those pieces went back on sale. Choose them again to book.",
            details={"hold_id": hold_id},
        )


HeldSource = Literal["hold", "tryon"]


@dataclass(frozen=True)
class HeldUnits:
    """Units a booking takes from a hold instead of from what is available: a checkout hold, or a
    try-on's one unit. The transaction ends the hold (the record's state is conditioned on it) and
    moves its units from held to sold, so a unit is never taken twice."""

    hold_id: str
    source: HeldSource
    visitor: str
    lines: tuple[Line, ...]
    line_shards: tuple[int, ...] = ()  # the stock shard each line is held on

    def qty(self, sku: str, size: str) -> int:
        return sum(line.qty for line in self.lines if (line.sku, line.size) == (sku, size))

    def shard(self, sku: str, size: str) -> int:
        return line_shard(self.lines, self.line_shards, sku, size)


@dataclass(frozen=True)
class SlotClaim:
    popup: str
    start: str  # ISO 8601 UTC, the slot item's sort key
    end: str
    capacity: int
    shards: int = 1  # items its places are spread over (``stock/shards.slot_shards``)


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
    shard: int = 0  # the stock shard its units were taken from (given back to on cancel)
    packaging: str = "standard"  # the SKU's packaging variant when it was booked


@dataclass(frozen=True, slots=True)
class ContactDetails:
    name: str
    email: str
    marketing_consent: bool = False  # may the brand write about new drops (not just this booking)


@dataclass(frozen=True)
class Booking:
    """A pickup booking as stored: what was booked where and when, at what price, for whom."""

    code: str
    drop: str
    generation: int  # the drop's set of stock it was booked from
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
    locale: str = "en"  # the shopper's language: what its messages are written in
    customer: str = ""  # the customer's key (hashed normalized email): whose limits it counts toward
    discounted_units: int = 0  # how many of its units were discounted (given back with it)
    slot_shard: int = 0  # which of its slot's items holds its place (given back to on cancel)

    @property
    def reserved(self) -> Reserved:
        """What this booking adds to its customer's and its visitor's counts."""
        units: dict[tuple[str, str], int] = {}
        for item in self.items:
            units[(item.sku, item.size)] = units.get((item.sku, item.size), 0) + item.qty
        return Reserved(units, self.discounted_units)

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(Line(item.sku, item.size, item.qty) for item in self.items)

    def ref(self, line: Line) -> StockRef:
        shards = tuple(item.shard for item in self.items)
        shard = line_shard(self.lines, shards, line.sku, line.size)
        return StockRef(self.drop, self.generation, line.sku, line.size, self.popup, shard)


class HoldReleaser(Protocol):
    def release_expired(self, ref: StockRef, now: datetime) -> int: ...


class HoldStore(Protocol):
    def release_expired_in_drop(self, slug: str, generation: int, now: datetime) -> int: ...


class ShardStore(Protocol):
    def rebalance(self, slug: str, generation: int, shards: int) -> int: ...


class CheckoutHoldStore(Protocol):
    def checkout_hold(self, hold_id: str) -> CheckoutHold | None: ...

    def visitor_hold_places(self, visitor_id: str) -> dict[str, VisitorPlace]: ...

    def place_checkout_hold(self, hold: CheckoutHold, now_epoch: int, shards: int = 1) -> CheckoutHold: ...

    def grow_checkout_hold(
        self, old: CheckoutHold, grown: CheckoutHold, now_epoch: int, shards: int = 1
    ) -> CheckoutHold: ...

    def end_checkout_hold(self, hold: CheckoutHold, at_iso: str) -> bool: ...

    def free_hold_place(self, visitor_id: str, place: str, hold_id: str) -> bool: ...

    def release_hold(self, ref: StockRef, hold_id: str) -> bool: ...

    def release_expired(self, ref: StockRef, now: datetime) -> int: ...


class BookingStore(Protocol):
    def idempotency_record(self, key: str, now_epoch: int) -> IdempotencyRecord | None: ...

    def booking(self, code: str) -> Booking | None: ...

    def slot_bookings(self, popup: str, first: str, last: str) -> dict[str, int]: ...

    def reserved(self, slug: str, customer: str, visitor: str) -> Reserved: ...

    def book(
        self,
        booking: Booking,
        slot: SlotClaim,
        record: IdempotencyRecord,
        day: date,
        now_epoch: int,
        held: HeldUnits | None = None,
        messages: tuple[QueuedMessage, ...] = (),
        limits: BookingLimits = NO_LIMITS,
        shards: int = 1,
    ) -> Booking: ...

    def leave_booked(
        self, booking: Booking, to: BookingState, at_iso: str, day: date, messages: tuple[QueuedMessage, ...] = ()
    ) -> bool: ...


# --- imports: a drop's products and stock, staged as a new generation -----------------------------

STALE_AFTER = timedelta(minutes=2)
"""A staging import that has written nothing for this long has stopped (a Lambda timed out)."""


@dataclass(frozen=True)
class ImportLease:
    """One import's right to stage a new generation of the drop: only one runs per drop at a time."""

    slug: str
    job_id: str
    revision: int  # the drop's revision it was checked against: an edit meanwhile makes it lose
    live: int  # the generation live when it began
    generation: int  # the one it stages: a number no import of the drop used before
    resume_from: int = 0  # items of it already written, by a stopped import of the same file


@dataclass(frozen=True)
class ImportJob:
    """A drop's latest import as recorded: it outlives the request that ran it, so the studio can
    say how far an import got, and the next import knows what an abandoned one left behind."""

    state: Literal["staging", "live", "failed"]
    done: int
    total: int
    by: str
    started_at: datetime
    heartbeat_at: datetime  # when it last wrote (to the second): silent for ``STALE_AFTER``, it is dead
    summary: str = ""  # what it imports, or why it failed
    ended_at: datetime | None = None

    def running(self, now: datetime) -> bool:
        """Still writing, as far as anyone can tell: staging, and heard from within ``STALE_AFTER``."""
        return self.state == "staging" and now - self.heartbeat_at < STALE_AFTER


class ProductWriter(Protocol):
    """Where an import writes: a new generation beside the live one, then one switch."""

    def begin_import(self, catalog: DropCatalog, total: int, by: str, now: datetime, digest: str) -> ImportLease:
        """Take the drop's import lease (``Conflict`` ``import_running`` if another import is
        writing, ``edit_conflict`` if the drop changed since ``catalog`` was read), refuse a drop
        whose stock has moved (``stock_moved``), and clear what an earlier import left unreachable.
        If the latest import, stopped or still going, has the same ``digest`` (the same file on the
        same drop), take it over instead and resume where it got to."""
        ...

    def stage(
        self, lease: ImportLease, skus: Sequence[Sku], stock: Sequence[StockLine], clock: Callable[[], datetime]
    ) -> Iterator[int]:
        """Write the new generation's SKUs and stock after the lease's ``resume_from`` first ones,
        yielding items written so far; none is reachable yet."""
        ...

    def go_live(self, lease: ImportLease, audit: AuditEntry, now: datetime) -> None:
        """Point the drop at the staged generation in one conditional write with its audit entry;
        ``Conflict`` ``edit_conflict`` if the drop changed meanwhile."""
        ...

    def fail(self, lease: ImportLease, why: str, now: datetime) -> None:
        """Record that the import stopped; its staged items stay unreachable until the next import."""
        ...

    def retire(self, lease: ImportLease, now: datetime) -> None:
        """Delete the generation the import replaced (best effort: the next import retries it)."""
        ...

    def import_job(self, slug: str) -> ImportJob | None: ...
