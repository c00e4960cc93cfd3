"""Drops, SKUs and stock as the pages need them: cached reads and the drop lifecycle.

The catalog (drop, SKUs, locations) changes rarely and is cached per process for a short TTL.
Stock is read fresh, or from a micro-cache of at most a second that is for display only: holds
and bookings never read it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from chalicelib.errors import NotFound
from chalicelib.models import Drop, DropCatalog, DropStatus

MAX_CACHED_DROPS = 256


class CatalogReader(Protocol):
    def drop_catalog(self, slug: str) -> DropCatalog | None: ...

    def drops(self) -> list[Drop]: ...

    def available_stock(self, slug: str) -> dict[tuple[str, str, str], int]: ...


@dataclass(frozen=True)
class StockSnapshot:
    """Available units per (sku, size, location), with the totals pages need."""

    available: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def units(self, sku: str, size: str, location: str) -> int:
        return self.available.get((sku, size, location), 0)

    @property
    def total(self) -> int:
        return sum(self.available.values())


def drop_status(drop: Drop, now: datetime, available_units: int) -> DropStatus:
    """Where a drop is in its lifecycle: teaser → live → sold_out | ended."""
    if now < drop.starts_at:
        return DropStatus.TEASER
    if now >= drop.ends_at:
        return DropStatus.ENDED
    if available_units <= 0:
        return DropStatus.SOLD_OUT
    return DropStatus.LIVE


class Catalog:
    """Cached access to the catalog through any ``CatalogReader``."""

    def __init__(
        self,
        reader: CatalogReader,
        *,
        catalog_ttl: float,
        stock_ttl: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._catalog_ttl = catalog_ttl
        self._stock_ttl = stock_ttl
        self._monotonic = monotonic
        self._catalogs: dict[str, tuple[float, DropCatalog | None]] = {}
        self._stock: dict[str, tuple[float, StockSnapshot]] = {}
        self._drops: tuple[float, list[Drop]] | None = None

    def drop(self, slug: str) -> DropCatalog:
        """The drop's catalog; ``NotFound`` for an unknown or unpublished drop."""
        now = self._monotonic()
        cached = self._catalogs.get(slug)
        if cached is None or cached[0] <= now:
            if len(self._catalogs) >= MAX_CACHED_DROPS:  # unknown slugs must not grow memory
                self._catalogs.clear()
            cached = (now + self._catalog_ttl, self._reader.drop_catalog(slug))
            self._catalogs[slug] = cached
        catalog = cached[1]
        if catalog is None or not catalog.drop.published:
            raise NotFound(f"There is no drop called {slug!r}.", code="drop_not_found")
        return catalog

    def stock(self, slug: str) -> StockSnapshot:
        now = self._monotonic()
        cached = self._stock.get(slug)
        if cached is None or cached[0] <= now:
            cached = (now + self._stock_ttl, StockSnapshot(self._reader.available_stock(slug)))
            self._stock[slug] = cached
        return cached[1]

    def public_drops(self, now: datetime) -> list[tuple[Drop, DropStatus]]:
        """Published drops that are in their teaser or live state, earliest start first."""
        clock = self._monotonic()
        if self._drops is None or self._drops[0] <= clock:
            self._drops = (clock + self._catalog_ttl, self._reader.drops())
        listed: list[tuple[Drop, DropStatus]] = []
        for drop in self._drops[1]:
            if not drop.published or now >= drop.ends_at:
                continue
            units = self.stock(drop.slug).total if now >= drop.starts_at else 1
            status = drop_status(drop, now, units)
            if status in (DropStatus.TEASER, DropStatus.LIVE):
                listed.append((drop, status))
        return listed
