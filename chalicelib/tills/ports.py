"""The tills port: a till token as stored, the outcome of one sale, and the stores tills need."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from chalicelib.core.audit import AuditEntry
from chalicelib.stock.ports import StockRef

SaleOutcome = Literal["applied", "duplicate", "out_of_stock", "unknown_item"]


@dataclass(frozen=True, slots=True)
class Till:
    """A till token's record: the pop-up it works for, and whether it still does."""

    id: str
    popup: str
    issued_at: str
    revoked_at: str | None = None


@dataclass(frozen=True, slots=True)
class FootfallReading:
    at: str  # ISO 8601 UTC: the reading's key, so a resent one is recognized
    entered: int
    day: date  # the pop-up's local date, whose total it adds to


class TillStore(Protocol):
    def put_till(self, token_id: str, popup: str, issued_at: str) -> None: ...

    def till(self, token_id: str) -> Till | None: ...

    def revoke_till(self, token_id: str, revoked_at: str) -> None: ...

    def add_footfall(self, popup: str, readings: list[FootfallReading]) -> int: ...

    def footfall_days(self, popup: str) -> dict[str, int]:
        """The door counter's day totals at ``popup``, by local date (ISO)."""


class SaleApplier(Protocol):
    def apply_till_sale(
        self,
        ref: StockRef,
        sale_id: str,
        qty: int,
        price_minor: int,
        sold_at: datetime,
        zone: str,
        audit: AuditEntry | None = None,
        numbers: Mapping[str, int] | None = None,
        shards: int = 1,
    ) -> SaleOutcome: ...


ReturnReason = Literal["too_small", "too_large", "fit", "quality", "changed_mind", "other"]
RETURN_REASONS: dict[str, str] = {
    "too_small": "too small",
    "too_large": "too large",
    "fit": "the fit",
    "quality": "quality",
    "changed_mind": "changed their mind",
    "other": "another reason",
}
"""Why a piece came back, as the till sends it and as the studio's numbers say it."""


@dataclass(frozen=True, slots=True)
class SoldPiece:
    """What a return names: a till sale's or a booking's ``units`` of one size, when they were sold,
    the stock shards they came from and how they were packed."""

    slug: str
    generation: int
    sku: str
    size: str
    location: str
    units: int
    sold_at: datetime
    parts: tuple[tuple[int, int], ...]  # (stock shard, units) it took them from, in order
    packaging: str
    origin: tuple[Literal["sale", "booking"], str]  # a till sale id, or a booking code
    returned: int = 0  # units of a split till sale given back already (the next go to the parts after)


@dataclass(frozen=True, slots=True)
class ReturnClaim:
    """One return as it is written: ``qty`` of ``piece`` back on its shard, and, for an exchange,
    as many of ``exchange_size`` (the same drop and place) handed out in one transaction."""

    return_id: str
    piece: SoldPiece
    qty: int
    reason: ReturnReason
    returned_at: datetime
    zone: str  # the pop-up's, for the day counters
    exchange: tuple[str, str] | None = None  # (SKU, size)
    within_30_days: bool = True


ReturnOutcome = Literal["applied", "duplicate", "over_returned", "exchange_out_of_stock"]


class ReturnStore(Protocol):
    def till_sale(self, slug: str, generation: int, sale_id: str, location: str) -> SoldPiece | None: ...

    def apply_return(self, claim: ReturnClaim, shards: int = 1) -> ReturnOutcome: ...
