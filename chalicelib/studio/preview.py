"""Previewing a template version as a given shopper would see it: any locale, loyalty tier or creator
cohort, experiment cell and pop-up, for the landing, try-on and pickup pages. Nothing is recorded:
no cookie, no scan, no offer log, no booking."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, ConfigDict, Field, field_validator

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.core.errors import DomainError, NotFound, Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import LABEL_PATTERN, SLUG_PATTERN, DropCatalog, iso
from chalicelib.i18n.locales import UI_LOCALES
from chalicelib.pages.published import sandbox
from chalicelib.pages.sandbox import RenderRefused, TemplateRejected
from chalicelib.shop.page import PageLocale, ReserveForm, landing_context
from chalicelib.shop.ports import Edge
from chalicelib.shop.shopper import ShopperDrop, open_drop, priced_at
from chalicelib.shop.visitors import campaign_link
from chalicelib.stock.page import pickup_context
from chalicelib.stock.ports import BookedLine, Booking, BookingState, ContactDetails
from chalicelib.stock.slots import local_instant
from chalicelib.studio.templates import checked_source
from chalicelib.tryon.page import tryon_context
from chalicelib.tryon.tags import Tag, TagPlace, tag_token
from chalicelib.web import responses

NO_VIEWER = Edge(None, None, None, None, None, None, None, None, None)
PREVIEW_CODE = "PREVIEW1"


def _ui_locale(lang: str) -> str:
    if lang not in UI_LOCALES:
        raise ValueError(f"is not one of the languages pages are written in ({', '.join(UI_LOCALES)})")
    return lang


class PreviewQuery(Model):
    """Who the preview is for. Empty fields mean an anonymous first visit."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    v: int = Field(default=0, ge=0, le=1_000_000)
    lang: Annotated[str, AfterValidator(_ui_locale)] = Field(default="en", pattern=r"^[a-z]{2}$")
    drop: str | None = Field(default=None, pattern=SLUG_PATTERN)
    tier: str | None = Field(default=None, pattern=LABEL_PATTERN)
    cohort: str | None = Field(default=None, pattern=LABEL_PATTERN)
    cell: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,40}:[a-z0-9-]{1,30}$")
    popup: str | None = Field(default=None, pattern=SLUG_PATTERN)

    @field_validator("drop", "tier", "cohort", "cell", "popup", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value  # a form's "—" option


def _drop(query: PreviewQuery) -> DropCatalog:
    store = wiring.catalog_store()
    slug = query.drop or next((d.slug for d in store.drops()), None)
    found = store.drop_catalog(slug) if slug else None
    if found is None:
        raise NotFound("There is no drop to preview with.", code="drop_not_found")
    return found


def _popup(catalog: DropCatalog, query: PreviewQuery) -> Any:
    popups = [loc for loc in catalog.locations if loc.kind == "popup"]
    chosen = next((p for p in popups if p.id == query.popup), None) if query.popup else (popups[0] if popups else None)
    if chosen is None:
        raise Unprocessable(f"{catalog.drop.slug} is not at a pop-up called {query.popup}.", code="popup_not_found")
    return chosen


def _shopper(catalog: DropCatalog, query: PreviewQuery, viewer: Edge, now: datetime, popup: str | None) -> ShopperDrop:
    campaign = campaign_link(tier=query.tier, cohort=query.cohort) if query.tier or query.cohort else None
    try:
        return open_drop(
            wiring.catalog(),
            catalog.drop.slug,
            viewer,
            now,
            with_tokens=False,
            lang=query.lang,
            campaign=campaign,
            scanned_at=popup,
            forced_cell=query.cell,
        )
    except ValueError as error:
        raise Unprocessable(str(error), code="no_such_cell") from None


def context_for(name: str, query: PreviewQuery, nonce: str, now: datetime) -> tuple[str, dict[str, Any]]:
    """The page's locale and the context its template renders with, for this previewed shopper."""
    catalog = _drop(query)
    base = settings().public_url or ""
    if name == "landing":
        shopper = _shopper(catalog, query, NO_VIEWER, now, query.popup)
        where = PageLocale(shopper.locale, shopper.zone, f"{base}/drops/{quote(catalog.drop.slug)}", shopper.locales)
        form = ReserveForm("", shopper.nearest or shopper.view.popups, None, shopper.units_per_customer)
        return shopper.locale, landing_context(shopper.view, where, nonce, form)
    popup = _popup(catalog, query)
    if name == "tryon":
        shopper = _shopper(catalog, query, priced_at(popup, NO_VIEWER), now, popup.id)
        sku = catalog.skus[0]
        tag = Tag(popup.id, sku.sku, sku.sizes[0])
        place = TagPlace(catalog, sku, popup, tag.size)
        return shopper.locale, tryon_context(shopper, place, base, nonce, tag_token(tag), now)
    return query.lang, pickup_context(_sample_booking(catalog, popup, now), catalog, query.lang, nonce, "")


def _sample_booking(catalog: DropCatalog, popup: Any, now: datetime) -> Booking:
    """A booking for tomorrow's first slot, as the pickup page would show one (never stored)."""
    zone = ZoneInfo(popup.timezone)
    day = (now.astimezone(zone) + timedelta(days=1)).date()
    start = local_instant(day, popup.pickup.opens if popup.pickup else time(10), zone)
    sku = catalog.skus[0]
    currency = catalog.drop.default_market.currency
    price = sku.list_prices.get(currency, 0)
    return Booking(
        code=PREVIEW_CODE,
        drop=catalog.drop.slug,
        generation=catalog.drop.generation,
        popup=popup.id,
        timezone=popup.timezone,
        slot_start=iso(start),
        slot_end=iso(start + timedelta(minutes=popup.pickup.slot_minutes if popup.pickup else 30)),
        items=(BookedLine(sku.sku, sku.sizes[0], 1, price, price, price, "preview"),),
        total_minor=price,
        currency=currency,
        contact=ContactDetails("Preview", "preview@example.org"),
        visitor="preview",
        state=BookingState.BOOKED,
        booked_at=iso(now),
    )


def choices(query: PreviewQuery) -> dict[str, list[str]]:
    """What the editor's preview form offers: drops, and the chosen drop's tiers, cohorts, cells and pop-ups."""
    store = wiring.catalog_store()
    catalog = _drop(query)
    policy = store.pricing_policy(catalog.drop.slug)
    segments = [rule.segment for rule in policy.segment_rules] if policy else []
    return {
        "drop": [d.slug for d in store.drops()],
        "tier": sorted({s[5:] for s in segments if s.startswith("tier:")}),
        "cohort": sorted({s[7:] for s in segments if s.startswith("cohort:")}),
        "cell": [f"{e.id}:{c.name}" for e in policy.experiments for c in e.cells] if policy else [],
        "popup": [loc.id for loc in catalog.locations if loc.kind == "popup"],
    }


def preview_url(name: str, query: PreviewQuery) -> str:
    fields = {k: v for k, v in query.model_dump().items() if v not in (None, "")}
    return f"/studio/templates/{name}/preview?{urlencode(fields)}"


def render_preview(name: str, query: PreviewQuery, now: datetime, source: str | None = None) -> tuple[str, str]:
    """The page's HTML with version ``query.v`` (0: the shipped template), or with an unsaved
    ``source`` (checked as a save would check it), and its nonce, without the shipped scripts: a
    preview runs none (its CSP says ``script-src 'none'``), so it does not ship them to be refused."""
    if source is not None:
        source = checked_source(name, source)
    nonce = responses.new_nonce()
    locale, context = context_for(name, query, nonce, now)
    try:
        if source is None:
            html = wiring.published().render_version(locale, name, query.v, context)
        else:
            box = sandbox(locale)
            html = box.render(box.compile(source, context.keys()), context)
    except (TemplateRejected, RenderRefused, LookupError) as error:
        raise Unprocessable(f"This version does not render: {_reason(error)}.", code="render_failed") from None
    shipped_scripts = re.compile(rf'<script nonce="{re.escape(context["_script_nonce"])}">.*?</script>', re.S)
    return shipped_scripts.sub("", html), nonce


def _reason(error: Exception) -> str:
    """Why a version did not render, in a marketer's words (not the sandbox's exception name)."""
    return str(error).removeprefix("SecurityError: ")


def trial_render(name: str, version: int, now: datetime) -> list[dict[str, str]]:
    """Render ``version`` of page ``name`` for a first visit to every drop, in every locale the UI
    speaks, as views would; each one that breaks the sandbox's rules or budget, with the reason.
    Publishing refuses a version with any (so a template that would freeze views never goes live).
    A render refused once is tried again: the first view of a locale also loads its data, and a
    template that breaks the budget breaks it every time."""
    failed: dict[str, list[str]] = {}  # problem → where: "linen-lab (fr)" …
    for drop in wiring.catalog_store().drops():
        for lang in UI_LOCALES:
            query = PreviewQuery(v=version, lang=lang, drop=drop.slug)
            try:
                locale, context = context_for(name, query, "trial", now)
            except DomainError:
                continue  # nothing to render this page with (a drop with no pop-up has no try-on page)
            for attempt in range(2):
                try:
                    wiring.published().render_version(locale, name, version, context)
                    break
                except RenderRefused as error:  # the budget: a cold first render (locale data) gets one more
                    if attempt:
                        failed.setdefault(_reason(error), []).append(f"{drop.slug} ({lang})")
                except (TemplateRejected, LookupError) as error:
                    failed.setdefault(_reason(error), []).append(f"{drop.slug} ({lang})")
                    break
    return [{"field": ", ".join(where), "problem": reason} for reason, where in failed.items()]
