"""The pickup confirmation page: the booking code as text and as a QR for the pop-up's till."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from markupsafe import Markup

from chalicelib.core.models import DropCatalog, localized
from chalicelib.i18n import formatting
from chalicelib.pages.frame import page_frame
from chalicelib.stock.ports import Booking


def pickup_qr(code: str, label: str) -> Markup:
    """An inline, scalable SVG QR of the booking code (our own alphabet only, so it is safe markup)."""
    svg = segno.make(code, error="m").svg_inline(
        scale=1, border=2, omitsize=True, svgclass="qr", title=label, dark="#1c1b19", light="#ffffff"
    )
    return Markup(svg)  # noqa: S704 - segno's SVG of a validated code; nothing from the client


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
    )
