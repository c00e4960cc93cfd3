"""A drop as one visitor sees it: market, status, live stock with scarcity cues, and offers.

Pure: it takes the catalog, a stock snapshot and the visitor, and does no I/O, so the HTML page and
the JSON API render the same view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

from chalicelib.catalog.reader import StockSnapshot, drop_status
from chalicelib.core.models import DropCatalog, DropStatus, Location, Market, Offer, Sku
from chalicelib.pricing.offers import NotPricedInCurrency, Pricer

Cue = Literal["in_stock", "few_left", "sold_out"]


class SizeView(NamedTuple):
    """A named tuple, not a frozen dataclass: a fresh stock read builds one per size (92 for a
    20-product drop) on every origin render, and a frozen dataclass's ``__init__`` is twice the cost."""

    size: str
    available: dict[str, int]  # per location id
    online: int  # in the web shop's stock (not for sale online yet)
    reservable: int  # at the pop-ups, where a shopper can reserve it for pickup
    cue: Cue  # what the reservable units say: in stock, few left, sold out


class ProductView(NamedTuple):
    """One per SKU on every view (a named tuple for the reason ``SizeView`` is one)."""

    sku: Sku
    sizes: tuple[SizeView, ...]
    offer: Offer
    online: int
    popups: tuple[tuple[Location, int], ...]  # units of this SKU at each pop-up

    @property
    def reservable(self) -> int:
        """Units at the pop-ups, where the shopper can reserve one."""
        return sum(size.reservable for size in self.sizes)


@dataclass(frozen=True)
class DropView:
    catalog: DropCatalog
    status: DropStatus
    market: Market
    products: tuple[ProductView, ...]
    now: datetime
    urgency: str = "none"
    units_made: int = 0
    units_left: int = 0

    @property
    def popups(self) -> tuple[Location, ...]:
        return tuple(loc for loc in self.catalog.locations if loc.kind == "popup")


def choose_market(catalog: DropCatalog, country: str | None, locale: str | None) -> Market:
    """The market for the viewer's country, else the one that speaks their locale, else the default."""
    markets = catalog.drop.markets
    if country:
        for market in markets:
            if country in market.countries:
                return market
    if locale:
        for market in markets:
            if locale in market.locales:
                return market
    return catalog.drop.default_market


def popup_currency(catalog: DropCatalog, place: Location) -> str:
    """The currency a pop-up sells in: its country's market's (its till, its bookings, its costs)."""
    return choose_market(catalog, place.country, None).currency


def scarcity_cue(units: int, threshold: int) -> Cue:
    if units <= 0:
        return "sold_out"
    if units <= threshold:
        return "few_left"
    return "in_stock"


@dataclass(frozen=True, slots=True)
class SkuStock:
    """A SKU's stock as the page shows it: per size, online, and at each pop-up."""

    sizes: tuple[SizeView, ...]
    online: int
    popups: tuple[tuple[Location, int], ...]


def stock_by_sku(catalog: DropCatalog, stock: StockSnapshot) -> dict[str, SkuStock]:
    """Every SKU's stock view. It depends only on the catalog and the snapshot, so it is worked out
    once per snapshot (≤ 1 s, shared by every view in that time) and remembered on the snapshot."""
    remembered = stock.memo.get(id(catalog))
    if remembered is not None and remembered[0] is catalog:
        views: dict[str, SkuStock] = remembered[1]
        return views
    available, threshold = stock.available, catalog.drop.scarcity_threshold
    popups = [loc for loc in catalog.locations if loc.kind == "popup"]
    places = [(loc.id, loc.kind) for loc in catalog.locations]
    views = {}
    for sku in catalog.skus:
        code, sizes = sku.sku, []
        at_popups = dict.fromkeys((loc.id for loc in popups), 0)
        for size in sku.sizes:
            by_location: dict[str, int] = {}
            online = reservable = 0
            for place, kind in places:  # one pass: this runs for every size of every fresh read
                units = by_location[place] = available.get((code, size, place), 0)
                if kind == "web":
                    online += units
                elif kind == "popup":
                    at_popups[place] += units
                    reservable += units
            sizes.append(SizeView(size, by_location, online, reservable, scarcity_cue(reservable, threshold)))
        views[code] = SkuStock(
            tuple(sizes), sum(s.online for s in sizes), tuple((loc, at_popups[loc.id]) for loc in popups)
        )
    stock.memo[id(catalog)] = (catalog, views)  # the catalog is kept, so its id is not reused meanwhile
    return views


def build_drop_view(
    catalog: DropCatalog, stock: StockSnapshot, market: Market, pricer: Pricer, now: datetime, urgency: str = "none"
) -> DropView:
    """The SKUs this market sells, each with its stock view and this visitor's offer (every page view)."""
    by_sku = stock_by_sku(catalog, stock)
    products = []
    for position, sku in enumerate(catalog.skus):
        try:
            there = stock.sell_through_at(sku.sku, pricer.location) if pricer.location else None
            offer = pricer.offer(position, sku, stock.sell_through_bps(sku.sku), there)
        except NotPricedInCurrency:
            continue  # not sold in this market
        held = by_sku[sku.sku]
        products.append(ProductView(sku=sku, sizes=held.sizes, offer=offer, online=held.online, popups=held.popups))
    return DropView(
        catalog=catalog,
        status=drop_status(catalog.drop, now, stock.total),
        market=market,
        products=tuple(products),
        now=now,
        urgency=urgency,
        units_made=stock.made,
        units_left=stock.total,
    )
