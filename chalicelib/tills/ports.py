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
