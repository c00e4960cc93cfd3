"""The hold page: the pieces set aside for the shopper with their price and how long they stay held,
and the form that books them (a slot by local date, a name, an email, an optional consent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.catalog.reader import Catalog
from chalicelib.core.models import epoch_seconds, iso, localized
from chalicelib.i18n import formatting
from chalicelib.pages.environment import template
from chalicelib.pages.frame import page_frame
from chalicelib.pricing.budgets import used_up_here
from chalicelib.shop.ports import Edge
from chalicelib.shop.quotes import price_lines
from chalicelib.shop.shopper import ShopperDrop, budget_scope, open_drop, priced_at
from chalicelib.shop.visitors import form_token
from chalicelib.stock.journey import BookingFields
from chalicelib.stock.pickup import OpenSlot, open_slots
from chalicelib.stock.ports import BookingStore, CheckoutHold


@dataclass(frozen=True)
class HoldPage:
    """Everything the page shows beyond the hold: where it is heading, and what the form said."""

    hold: CheckoutHold
    shopper: ShopperDrop  # priced at the hold's pop-up
    days: list[tuple[date, list[OpenSlot]]]
    form_token: str
    now: datetime
    fields: BookingFields = field(default_factory=BookingFields)
    problems: dict[str, str] = field(default_factory=dict)  # field → problem code


def hold_context(page: HoldPage, nonce: str) -> dict[str, Any]:
    shopper, hold = page.shopper, page.hold
    locale, catalog = shopper.locale, shopper.view.catalog
    fallback = shopper.view.market.default_locale
    popup = next(loc for loc in catalog.locations if loc.id == hold.popup)
    zone, currency = popup.timezone, shopper.pricer.currency
    names = {sku.sku: localized(sku.name, locale, fallback) for sku in catalog.skus}
    priced = price_lines(shopper, hold.lines, ())
    pricer = shopper.pricer
    anywhere = budget_scope(catalog, shopper.view.market, None, page.now)
    budget_used_here = (
        pricer.policy is not None
        and pricer.budget_scope is not None
        and used_up_here(pricer.policy, pricer.currency, pricer.segments, pricer.budget_scope, anywhere, pricer.spent)
    )
    expires = datetime.fromtimestamp(hold.expires_at, tz=UTC)
    base = f"/drops/{hold.drop}"
    return {
        **page_frame(locale, nonce),
        "hold": hold,
        "live": hold.is_live(epoch_seconds(page.now)),
        "drop_name": localized(catalog.drop.name, locale, fallback),
        "popup_name": localized(popup.name, locale, fallback),
        "popup_address": popup.address,
        "zone_name": formatting.zone_name(zone, locale),
        "expires_iso": iso(expires),
        "expires_local": formatting.local_clock(expires, zone, locale),
        "lines": [
            {
                "name": names.get(line.sku, line.sku),
                "size": line.size,
                "qty": line.qty,
                "amount": formatting.money(line.line_minor, currency, locale),
            }
            for line in priced
        ],
        "total": formatting.money(sum(line.line_minor for line in priced), currency, locale),
        "budget_used_here": budget_used_here,
        "days": [
            {
                "label": formatting.local_date(slots[0].start, zone, locale),
                "options": [
                    {
                        "value": iso(slot.start),
                        "label": formatting.local_date(slot.start, zone, locale, long=False)
                        + " · "
                        + formatting.local_clock(slot.start, zone, locale),
                    }
                    for slot in slots
                ],
            }
            for _, slots in page.days
        ],
        "action": f"{base}/holds/{hold.hold_id}?lang={locale}",
        "release_action": f"{base}/holds/{hold.hold_id}/release?lang={locale}",
        "drop_url": f"{base}?lang={locale}",
        "add_url": f"{base}?lang={locale}&hold={hold.hold_id}",
        "token": page.form_token,
        "fields": page.fields,
        "problems": {"slot": "", "name": "", "email": "", **page.problems},
        "has_problems": bool(page.problems),
    }


def hold_page(
    catalog: Catalog,
    bookings: BookingStore,
    hold: CheckoutHold,
    viewer: Edge,
    lang: str | None,
    now: datetime,
    fields: BookingFields | None = None,
) -> HoldPage:
    """The hold's page as its visitor sees it: priced at its pop-up, with the slots still free."""
    popup = catalog.location(hold.popup)
    shopper = open_drop(
        catalog, hold.drop, priced_at(popup, viewer), now, with_tokens=False, lang=lang, pickup_at=hold.popup
    )
    days = open_slots(catalog, bookings, hold.popup, now)
    return HoldPage(hold, shopper, days, form_token(hold.visitor), now, fields or BookingFields())


def render_hold_page(page: HoldPage, nonce: str) -> str:
    """The shipped hold page (marketers restyle the drop and try-on pages, not this form)."""
    return template(page.shopper.locale, "hold.html").render(hold_context(page, nonce))
