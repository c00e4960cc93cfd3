"""The catalog's port: what the catalog reads from the store, and the pricing policy as read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from chalicelib.core.models import Drop, DropCatalog
from chalicelib.pricing.policy import PricingPolicy


@dataclass(frozen=True)
class PolicyRead:
    policy: PricingPolicy | None
    failed: bool  # True: it could not be read, so offers fail closed
    spent: dict[str, int] = field(default_factory=dict)  # what budgets have granted, by counter (pricing.budgets)

    def spent_in(self, currency: str) -> dict[str, int]:
        """The budget counters of one currency (``<rule>@<currency>[@…]``)."""
        return {name: n for name, n in self.spent.items() if name.split("@")[1:2] == [currency]}


@dataclass(frozen=True)
class StockCounts:
    """A drop's display stock as read: available units per (SKU, size, location), and per (SKU,
    location) the units made (on hand) and sold (booked or sold at a till; held units are not sold)."""

    available: dict[tuple[str, str, str], int]
    on_hand: dict[tuple[str, str], int]
    sold: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class PopupDay:
    """A pop-up's day so far (its local day): people through its door and units sold at its till."""

    footfall: int
    till_units: int


class CatalogReader(Protocol):
    def drop_catalog(self, slug: str) -> DropCatalog | None: ...

    def drops(self) -> list[Drop]: ...

    def available_stock(self, slug: str, generation: int) -> StockCounts: ...

    def current_pricing(self, slug: str) -> tuple[PricingPolicy | None, dict[str, int]]:
        """The drop's current policy (None if it has none; invalid data raises) and what its budgeted
        rules have granted, by counter (``pricing.budgets``)."""
        ...

    def popup_day(self, slug: str, generation: int, popup: str, day: date) -> PopupDay: ...


class MediaStore(Protocol):
    """Where product pictures live: the media bucket behind CloudFront's ``/media``, or ``media/`` locally."""

    def put(self, path: str, data: bytes, content_type: str) -> None: ...
