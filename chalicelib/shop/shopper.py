"""A shopper's request for a drop: who they are, how to speak to them, and what they see."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib import telemetry
from chalicelib.catalog.ports import PopupDay
from chalicelib.catalog.reader import Catalog
from chalicelib.core.errors import NotFound
from chalicelib.core.models import SLUG_PATTERN, DropCatalog, Location, Market, local_day
from chalicelib.edge.segment import SegmentKey
from chalicelib.i18n.formatting import timezone
from chalicelib.i18n.locales import UI_LOCALES, negotiate
from chalicelib.pricing.budgets import BudgetScope
from chalicelib.pricing.counters import exposure_counts
from chalicelib.pricing.experiments import Assignment, assign, pricing_cell, urgency, with_cell
from chalicelib.pricing.logged import DECISION_FIELDS
from chalicelib.pricing.offers import Pricer
from chalicelib.pricing.policy import Channel, Experiment, PricingPolicy
from chalicelib.pricing.segments import Whereabouts, by_distance, nearest_popup, segments_of
from chalicelib.shop.ports import CellCounter, Edge
from chalicelib.shop.storefront import DropView, build_drop_view, choose_market
from chalicelib.shop.visitors import Visitor, identify

SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class ShopperDrop:
    """``shared``: rendered from the edge's segment key, for every visitor of that segment (the
    visitor's id is unknown and no cookie is set); otherwise for this visitor alone."""

    view: DropView
    visitor: Visitor
    cookies: tuple[str, ...]  # Set-Cookie values
    locale: str
    zone: str
    locales: tuple[str, ...]
    pricer: Pricer
    assignments: tuple[Assignment, ...]
    nearest: tuple[Location, ...] = ()  # the drop's pop-ups, nearest to the viewer first
    shared: bool = False

    @property
    def units_per_customer(self) -> int:
        """The most of each SKU and size one customer may book (0: no limit), for the page to say."""
        return self.pricer.policy.guardrail.max_units_per_customer if self.pricer.policy else 0


def priced_at(location: Location, viewer: Edge) -> Edge:
    """The viewer as priced at a pop-up: in the market of its country, whatever country they browse
    from (a Paris pop-up sells in euros to every phone)."""
    return replace(viewer, country=location.country) if location.country else viewer


def checked_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise NotFound(f"There is no drop called {slug[:64]!r}.", code="drop_not_found")
    return slug


def page_locales(catalog: DropCatalog) -> tuple[str, ...]:
    """The locales the drop's markets speak that we have UI catalogs for."""
    return tuple(tag for tag in catalog.drop.locales if tag in UI_LOCALES) or ("en",)


def choose_locale(catalog: DropCatalog, locales: tuple[str, ...], lang: str | None, edge: Edge) -> str:
    """``lang`` (asked for in the URL) if the drop speaks it, else the browser's, else the market's."""
    home = choose_market(catalog, edge.country, None).default_locale
    return negotiate(lang, edge.accept_language, locales, home if home in locales else locales[0])


def open_drop(
    catalog: Catalog,
    slug: str,
    edge: Edge,
    now: datetime,
    *,
    with_tokens: bool,
    lang: str | None = None,
    campaign: str | None = None,
    scanned_at: str | None = None,
    forced_cell: str | None = None,
    pickup_at: str | None = None,
    channel: Channel = "online",
    segment: SegmentKey | None = None,
) -> ShopperDrop:
    """The drop as this visitor sees it, in ``lang`` if the drop speaks it. ``campaign`` is a signed
    campaign link's value (its tier or cohort joins the visitor's cookie). ``scanned_at`` is the pop-up
    whose QR tag they scanned: it joins their profile (the neighbourhood segment) and their cookie.
    ``forced_cell`` (``experiment:cell``) is for the studio's preview only: shoppers' cells are hashed,
    never chosen. ``pickup_at`` is the pop-up the shopper books at, once known: its budgets and its
    day price the offers (before, any pickup pop-up's and the market's day do). ``channel``: ``popup``
    for the QR try-on page and a booking that follows a try-on (experiment cells may price by channel).
    ``segment``: the key the edge verified; the page is rendered from it, the same for every visitor
    who has it, unless it was drawn under another policy version (then for this visitor)."""
    drop_catalog = catalog.drop(checked_slug(slug))
    drop = drop_catalog.drop
    locales = page_locales(drop_catalog)
    locale = choose_locale(drop_catalog, locales, lang, edge)
    market = choose_market(drop_catalog, edge.country, locale)
    zone = edge.timezone if edge.timezone and timezone(edge.timezone) else market.timezone
    policy = catalog.policy(drop.slug)
    experiments = policy.policy.experiments if policy.policy else ()
    keyed = None if scanned_at or forced_cell else from_segment(segment, policy.policy, experiments)  # grants are in it
    cookies: tuple[str, ...] = ()
    if keyed is not None and segment is not None:
        (visitor, assignments), where, near = keyed, Whereabouts(None, None, None), segment.near
    else:
        visitor, cookies = identify(edge.cookie, campaign, scanned_at, edge.minted)
        assignments = assign(visitor.id, experiments)
        if forced_cell is not None:
            assignments = with_cell(experiments, forced_cell, assignments)
        where = Whereabouts(edge.latitude, edge.longitude, edge.city)
        near = nearest_popup(where, drop_catalog.locations)
    pricer = Pricer(
        policy=policy.policy,
        policy_failed=policy.failed,
        currency=market.currency,
        visitor_id=visitor.id,
        segments=segments_of(
            tier=visitor.tier, cohort=visitor.cohort, popup=visitor.popup, near=near, returning=not visitor.is_new
        ),
        cell=pricing_cell(assignments),
        hours_since_start=max(0, int((now - drop.starts_at).total_seconds() // 3600)),
        now=now,
        view_id=uuid.uuid4().hex,
        with_tokens=with_tokens,
        budget_scope=budget_scope(drop_catalog, market, pickup_at, now),
        channel=channel,
        spent=policy.spent_in(market.currency),
        location=pickup_at,
    )
    if (day := popup_signals(catalog, drop_catalog, policy.policy, pickup_at, now)) is not None:
        pricer.footfall, pricer.till_units = day.footfall, day.till_units
    stock = catalog.stock(drop, read_now=keyed is not None)
    view = build_drop_view(drop_catalog, stock, market, pricer, now, urgency(assignments))
    nearest = by_distance(where, drop_catalog.locations)
    if keyed is not None:  # the key names the nearest pop-up; the viewer's position is not in it
        nearest = tuple(sorted(nearest, key=lambda loc: loc.id != near))
    return ShopperDrop(
        view, visitor, cookies, locale, zone, locales, pricer, assignments, nearest, shared=keyed is not None
    )


def from_segment(
    segment: SegmentKey | None, policy: PricingPolicy | None, experiments: tuple[Experiment, ...]
) -> tuple[Visitor, tuple[Assignment, ...]] | None:
    """The visitor a segment key stands for (no id: one page serves them all) and the cells it names,
    or None when there is no key or it was drawn under another policy (a version or a cell the
    policy does not have)."""
    if segment is None or segment.policy != (policy.version if policy else None):
        return None
    cells = {f"{e.id}.{c.name}": Assignment(e.id, c) for e in experiments for c in e.cells}
    if not set(segment.cells) <= cells.keys():
        return None
    visitor = Visitor("", segment.returning is False, segment.tier, segment.cohort, segment.popup)
    return visitor, tuple(cells[label] for label in segment.cells)


def popup_signals(
    catalog: Catalog, drop_catalog: DropCatalog, policy: PricingPolicy | None, popup_id: str | None, now: datetime
) -> PopupDay | None:
    """The pop-up's day so far (footfall, till units), read only when a markdown stage there asks
    for them. Best effort: unread, no such stage holds, so the price stays where the rest put it."""
    if popup_id is None or policy is None:
        return None
    if not any(
        stage.location == popup_id and (stage.footfall_over is not None or stage.conversion_below_bps is not None)
        for stage in policy.markdowns
    ):
        return None
    popup = next((loc for loc in drop_catalog.locations if loc.id == popup_id), None)
    if popup is None:
        return None
    try:
        return catalog.popup_day(drop_catalog.drop, popup, now)
    except Exception:  # noqa: BLE001 - throttled or unreachable: the page still serves, unmarked
        telemetry.logger.warning("pop-up signals unread", extra={"drop": drop_catalog.drop.slug, "popup": popup_id})
        return None


def budget_scope(catalog: DropCatalog, market: Market, pickup_at: str | None, now: datetime) -> BudgetScope:
    """Where and when this visitor's discounts would be granted: at ``pickup_at`` on its local day,
    or, before the shopper chose, at any of the drop's pickup pop-ups on the market's day."""
    if pickup_at is not None:
        zone = next((loc.timezone for loc in catalog.locations if loc.id == pickup_at), market.timezone)
        return BudgetScope(local_day(zone, now), (pickup_at,))
    popups = tuple(loc.id for loc in catalog.locations if loc.pickup is not None)
    return BudgetScope(local_day(market.timezone, now), popups)


def record_offers(shopper: ShopperDrop, numbers: CellCounter, *, first_view_counted: bool = False) -> None:
    """Log the offers shown. A first visit also joins each experiment cell's sample in the studio's
    numbers: best effort, since a counter that cannot be written must never take the page down.
    ``first_view_counted``: a landing page behind the edge, whose first views the edge's log counts
    (``numbers/first_views.py``), also those the origin renders for the visitor alone."""
    if shopper.visitor.is_new and shopper.assignments and not first_view_counted:
        try:
            numbers.add(shopper.view.catalog.drop.slug, exposure_counts(a.label for a in shopper.assignments))
        except Exception:  # noqa: BLE001 - throttled or unreachable: the page still serves
            telemetry.logger.warning("experiment exposure not counted", extra={"drop": shopper.view.catalog.drop.slug})
    policy = shopper.pricer.policy
    telemetry.offers_shown(
        shopper.view.catalog.drop.slug,
        [a.label for a in shopper.assignments],
        shopper.pricer.shared,
        DECISION_FIELDS,
        shopper.pricer.records,
        policy.version if policy else None,
    )
