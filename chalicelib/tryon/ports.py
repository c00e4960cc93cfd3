"""The try-on port: a try-on and its states, the QR funnel's steps (from a scan on the rail to a sale,
counted per SKU, pop-up and day), and the stores try-ons need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Protocol

from chalicelib.stock.ports import StockRef, VisitorPlace


class FunnelStep(StrEnum):
    SCAN = "scans"
    TRYON_REQUESTED = "tryon_requests"
    TRYON_COMPLETED = "tryons_completed"
    BOOKED_AFTER_TRYON = "booked_after_tryon"
    SOLD_AFTER_TRYON = "sold_after_tryon"


class TryOnState(StrEnum):
    WAITING = "waiting"  # requested: the garment is held, the shopper waits for a fitting room
    CALLED = "called"  # staff called the shopper
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_STATES = (TryOnState.WAITING, TryOnState.CALLED)


@dataclass(frozen=True)
class TryOn:
    """A try-on as stored: the unit it holds at the pop-up, whose it is, and where it stands."""

    tryon_id: str
    drop: str
    generation: int  # the drop's set of stock the unit is held from
    sku: str
    size: str
    popup: str
    timezone: str
    visitor: str
    place: str  # "s0" … the visitor item's attribute this try-on occupies
    state: TryOnState
    requested_at: str
    hold_expires_at: int  # epoch seconds
    ticket: int = 0  # the queue number the shopper was told (0: asked for before numbers were kept)
    booking: str | None = None  # the booking code it led to
    sale_id: str | None = None  # the till sale it led to
    shard: int = 0  # the stock shard its unit is held on

    @property
    def ref(self) -> StockRef:
        return StockRef(self.drop, self.generation, self.sku, self.size, self.popup, self.shard)

    def is_live(self, now_epoch: int) -> bool:
        return self.state in OPEN_STATES and self.hold_expires_at > now_epoch


Outcome = Literal["booking", "sale_id"]
"""What a try-on can lead to: the field that records it."""


@dataclass(frozen=True, slots=True)
class TryOnClaim:
    """What a try-on request writes: its record, the unit it holds and the visitor place it takes."""

    tryon: TryOn
    day: date  # the pop-up's local date, for the funnel
    keep: int = 0  # pieces of the size the hold must leave free for buyers
    shards: int = 1  # stock items the size is spread over (the drop's)


class FunnelStore(Protocol):
    def count(self, slug: str, sku: str, popup: str, step: FunnelStep, day: date) -> None: ...


class TryOnStore(FunnelStore, Protocol):
    def tryon(self, tryon_id: str) -> TryOn | None: ...

    def visitor_places(self, visitor_id: str) -> dict[str, VisitorPlace]: ...

    def queue(self, popup: str, since_id: str) -> list[TryOn]: ...

    def next_ticket(self, popup: str, day: date, expires_epoch: int) -> int:
        """The pop-up's next queue number that day (1, 2, …), taken atomically: no two shoppers are
        given the same one. A number taken by a request that then fails is simply skipped."""
        ...

    def request(self, claim: TryOnClaim, now_epoch: int) -> TryOn: ...

    def move(
        self,
        tryon_id: str,
        to: TryOnState,
        from_states: tuple[TryOnState, ...],
        at_iso: str,
        counted: tuple[str, str, str, date] | None = None,
    ) -> bool: ...

    def call(self, tryon: TryOn, until_epoch: int, at_iso: str) -> bool: ...

    def free_place(self, visitor_id: str, place: str, tryon_id: str) -> bool: ...

    def link(self, tryon: TryOn, outcome: Outcome, value: str, step: FunnelStep, day: date) -> bool: ...


class Holds(Protocol):
    def release_expired(self, ref: StockRef, now: datetime) -> int: ...

    def release_hold(self, ref: StockRef, hold_id: str) -> bool: ...
