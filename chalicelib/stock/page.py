"""The pickup confirmation page: the booking code as text and as a QR for the pop-up's till, with the
slot for a calendar, the way there, and a cancel that asks first."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from chalicelib.core.models import DropCatalog, Location, localized
from chalicelib.core.tokens import Purpose, sign
from chalicelib.i18n import formatting
from chalicelib.pages.environment import translations
from chalicelib.pages.frame import page_frame
from chalicelib.stock.calendar import PickupEvent
from chalicelib.stock.ports import Booking


def pickup_qr(code: str, label: str) -> Markup:
    """An inline, scalable SVG QR of the booking code (our own alphabet only, so it is safe markup)."""
    import segno  # here, not at import: a cold start's first page draws no QR code (15 ms saved)

    svg = segno.make(code, error="m").svg_inline(
        scale=1, border=2, omitsize=True, svgclass="qr", title=label, dark="#1c1b19", light="#ffffff"
    )
    return Markup(svg)  # noqa: S704 - segno's SVG of a validated code; nothing from the client


def confirmation_path(code: str, lang: str | None = None) -> str:
    """The booking's confirmation page, opened by its cancel token (what a booking's 201 carries)."""
    token = sign(Purpose.CANCEL, {"b": code})
    return f"/pickups/{code}?t={token}" + (f"&lang={lang}" if lang else "")


def map_url(popup: Location) -> str | None:
    """Where the pop-up is on OpenStreetMap (opens the phone's browser or map app), if it is placed."""
    if popup.latitude is None or popup.longitude is None:
        return None
    lat, lon = f"{popup.latitude:.5f}", f"{popup.longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"


def pickup_event(booking: Booking, catalog: DropCatalog, locale: str, page_url: str | None = None) -> PickupEvent:
    """The booking as a calendar event, worded in ``locale``."""
    fallback = catalog.drop.default_market.default_locale
    popup = next((loc for loc in catalog.locations if loc.id == booking.popup), None)
    place = localized(popup.name, locale, fallback) if popup else booking.popup
    gettext = translations(locale).gettext
    drop = localized(catalog.drop.name, locale, fallback)
    return PickupEvent(
        code=booking.code,
        start=datetime.fromisoformat(booking.slot_start),
        end=datetime.fromisoformat(booking.slot_end),
        stamp=datetime.fromisoformat(booking.booked_at),
        summary=gettext("Pick up: %(drop)s") % {"drop": drop},
        location=", ".join(part for part in (place, popup.address if popup else None) if part),
        description=gettext("Show booking code %(code)s at the pop-up. You pay at pickup.") % {"code": booking.code},
        url=page_url,
        latitude=popup.latitude if popup else None,
        longitude=popup.longitude if popup else None,
    )


def pickup_context(
    booking: Booking, catalog: DropCatalog, locale: str, nonce: str, cancel_token: str
) -> dict[str, Any]:
    fallback = catalog.drop.default_market.default_locale
    popup = next((loc for loc in catalog.locations if loc.id == booking.popup), None)
    skus = {sku.sku: sku for sku in catalog.skus}
    zone = booking.timezone
    lines = [
        {
            "name": localized(skus[item.sku].name, locale, fallback) if item.sku in skus else item.sku,
            "size": item.size,
            "qty": item.qty,
            "amount": formatting.money(item.line_minor, booking.currency, locale),
        }
        for item in booking.items
    ]
    return dict(
        **page_frame(locale, nonce),
        booking=booking,
        drop_name=localized(catalog.drop.name, locale, fallback),
        popup_name=localized(popup.name, locale, fallback) if popup else booking.popup,
        popup_address=popup.address if popup else None,
        slot_start=formatting.local_datetime(datetime.fromisoformat(booking.slot_start), zone, locale),
        zone_name=formatting.zone_name(zone, locale),
        lines=lines,
        total=formatting.money(booking.total_minor, booking.currency, locale),
        qr=pickup_qr(booking.code, booking.code),
        cancel_token=cancel_token,
        map_url=map_url(popup) if popup else None,
        calendar_url=f"/pickups/{booking.code}/calendar.ics?" + urlencode({"t": cancel_token, "lang": locale}),
        cancel_action=f"/pickups/{booking.code}/cancel?lang={locale}",
        drop_url=f"/drops/{booking.drop}?lang={locale}",
    )
