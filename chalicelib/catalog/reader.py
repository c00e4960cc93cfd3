"""Drops, SKUs and stock as the pages need them: cached reads and the drop lifecycle.

The catalog (drop, SKUs, locations) changes rarely and is cached per process for a short TTL.
Stock is read fresh, or from a micro-cache of at most a second that is for display only: holds
and bookings never read it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from chalicelib import telemetry
from chalicelib.catalog.ports import CatalogReader, PolicyRead, PopupDay, StockCounts
from chalicelib.core.errors import NotFound
from chalicelib.core.models import Drop, DropCatalog, DropStatus, Location, local_day
from chalicelib.telemetry import logger

MAX_CACHED_DROPS = 256
FAILED_POLICY_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class StockSnapshot:
    """Available units per (sku, size, location), and units made and sold per (sku, location)
    (sell-through, the drop's and each place's)."""

    available: dict[tuple[str, str, str], int] = field(default_factory=dict)
    on_hand: dict[tuple[str, str], int] = field(default_factory=dict)
    sold: dict[tuple[str, str], int] = field(default_factory=dict)
    memo: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)  # views derived from it

    @cached_property
    def _per_sku(self) -> tuple[dict[str, int], dict[str, int]]:
        made: dict[str, int] = {}
        sold: dict[str, int] = {}
        for (sku, location), units in self.on_hand.items():
            made[sku] = made.get(sku, 0) + units
            sold[sku] = sold.get(sku, 0) + self.sold.get((sku, location), 0)
        return made, sold

    def sell_through_bps(self, sku: str) -> int:
        """Share of a SKU's units made that were sold (booked or at a till), in basis points. Held
        units are not sold: a launch's holds, most of which lapse, must not hold a markdown back."""
        made, sold = self._per_sku
        return _share_bps(sold.get(sku, 0), made.get(sku, 0))

    def sell_through_at(self, sku: str, location: str) -> int:
        """The SKU's sell-through at one place: its units sold there of those made for it."""
        return _share_bps(self.sold.get((sku, location), 0), self.on_hand.get((sku, location), 0))

    def place_sell_through(self, location: str) -> int | None:
        """Every SKU's at one place together; None if nothing was made for it."""
        made = sum(units for (_, at), units in self.on_hand.items() if at == location)
        sold = sum(units for (_, at), units in self.sold.items() if at == location)
        return _share_bps(sold, made) if made else None

    def units(self, sku: str, size: str, location: str) -> int:
        return self.available.get((sku, size, location), 0)

    @cached_property
    def total(self) -> int:
        return sum(self.available.values())

    @cached_property
    def made(self) -> int:
        return sum(self.on_hand.values())


def _share_bps(sold: int, made: int) -> int:
    return min(10_000, max(0, sold * 10_000 // made)) if made > 0 else 0


def _snapshot(counts: StockCounts) -> StockSnapshot:
    return StockSnapshot(counts.available, counts.on_hand, counts.sold)


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
        self._policies: dict[str, tuple[float, PolicyRead]] = {}
        self._signals: dict[str, tuple[float, PopupDay]] = {}
        self._loading = threading.Lock()

    def drop(self, slug: str) -> DropCatalog:
        """The drop's catalog; ``NotFound`` for an unknown or unpublished drop."""
        if slug not in self._catalogs and len(self._catalogs) >= MAX_CACHED_DROPS:
            self._catalogs.clear()  # unknown slugs must not grow memory
        catalog = self._fresh(self._catalogs, slug, self._catalog_ttl, self._reader.drop_catalog)
        if catalog is None or not catalog.drop.published:
            raise NotFound(f"There is no drop called {slug!r}.", code="drop_not_found")
        return catalog

    def stock(self, drop: Drop, *, read_now: bool = False) -> StockSnapshot:
        """The display stock of the drop's live generation (a drop re-imported reads the new one), up
        to the stock cache's age old; ``read_now`` for a page the edge keeps a second more, whose
        stock must not be older than that when it is last shown."""
        key = f"{drop.slug}#g{drop.generation}"
        if read_now:
            self._stock.pop(key, None)
        return self._fresh(
            self._stock,
            key,
            self._stock_ttl,
            lambda _: _snapshot(self._reader.available_stock(drop.slug, drop.generation)),
        )

    def _fresh[Value](
        self, cache: dict[str, tuple[float, Value]], key: str, ttl: float, load: Callable[[str], Value]
    ) -> Value:
        """``cache[key]`` if still fresh, else loaded once: concurrent callers (a threaded local
        server) wait for one load instead of stampeding DynamoDB when an entry expires."""
        cached = cache.get(key)
        if cached is None or cached[0] <= self._monotonic():
            with self._loading:
                cached = cache.get(key)
                now = self._monotonic()
                if cached is None or cached[0] <= now:
                    cached = (now + ttl, load(key))
                    cache[key] = cached
        return cached[1]

    def popup_day(self, drop: Drop, popup: Location, now: datetime) -> PopupDay:
        """The pop-up's footfall and till units so far on its local day, up to the catalog cache's
        age old (they move a markdown stage, which need not follow each sale to the second)."""
        day = local_day(popup.timezone, now)
        if len(self._signals) >= MAX_CACHED_DROPS:
            self._signals.clear()  # yesterday's keys must not pile up
        return self._fresh(
            self._signals,
            f"{drop.slug}#g{drop.generation}#{popup.id}#{day.isoformat()}",
            self._catalog_ttl,
            lambda _: self._reader.popup_day(drop.slug, drop.generation, popup.id, day),
        )

    def policy(self, slug: str) -> PolicyRead:
        """The drop's pricing policy. If it cannot be read, offers fail closed (list price) and the
        failure is cached briefly so an outage is not hammered."""
        now = self._monotonic()
        cached = self._policies.get(slug)
        if cached is None or cached[0] <= now:
            try:
                policy, spent = self._reader.current_pricing(slug)
                read = PolicyRead(policy, failed=False, spent=spent)
                cached = (now + self._catalog_ttl, read)
            except Exception as error:  # noqa: BLE001 - any failure to read the policy must fail closed
                logger.warning("pricing policy unreadable: failing closed", extra={"drop": slug, "error": str(error)})
                telemetry.guardrail_fail_closed(slug)
                cached = (now + FAILED_POLICY_RETRY_SECONDS, PolicyRead(None, failed=True))
            self._policies[slug] = cached
        return cached[1]

    def all_drops(self) -> list[Drop]:
        """Every drop, published or not, earliest start first."""
        clock = self._monotonic()
        if self._drops is None or self._drops[0] <= clock:
            self._drops = (clock + self._catalog_ttl, self._reader.drops())
        return self._drops[1]

    def drops_at(self, location_id: str) -> list[DropCatalog]:
        """The published drops that stock ``location_id`` (a pop-up's till sells from these)."""
        return [self.drop(d.slug) for d in self.all_drops() if d.published and location_id in d.location_ids]

    def location(self, location_id: str) -> Location:
        """A location any published drop uses; ``NotFound`` otherwise."""
        for catalog in self.drops_at(location_id):
            for location in catalog.locations:
                if location.id == location_id:
                    return location
        raise NotFound(f"There is no pop-up called {location_id[:64]!r}.", code="popup_not_found")

    def public_drops(self, now: datetime) -> list[tuple[Drop, DropStatus]]:
        """Published drops that are in their teaser or live state, earliest start first."""
        listed: list[tuple[Drop, DropStatus]] = []
        for drop in self.all_drops():
            if not drop.published or now >= drop.ends_at:
                continue
            units = self.stock(drop).total if now >= drop.starts_at else 1
            status = drop_status(drop, now, units)
            if status in (DropStatus.TEASER, DropStatus.LIVE):
                listed.append((drop, status))
        return listed
