"""The landing page: the template context for a DropView, and its rendering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.core.models import DropStatus, LocalizedText, localized
from chalicelib.i18n import formatting
from chalicelib.i18n.locales import display_name
from chalicelib.pages.frame import page_frame
from chalicelib.shop.storefront import DropView, ProductView

SCHEMA_ORG = "https://schema.org/"


@dataclass(frozen=True)
class PageLocale:
    """How to speak to this visitor: locale, time zone, and the page's alternates by locale."""

    locale: str
    zone: str
    url: str  # absolute, without query
    alternates: tuple[str, ...]


def availability(view: DropView, product: ProductView) -> str:
    """The schema.org availability of a product for this visitor."""
    if view.status is DropStatus.TEASER:
        return SCHEMA_ORG + "PreOrder"
    if view.status is DropStatus.ENDED:
        return SCHEMA_ORG + "Discontinued"
    if product.online > 0:
        few = product.online <= view.catalog.drop.scarcity_threshold
        return SCHEMA_ORG + ("LimitedAvailability" if few else "InStock")
    if any(units for _, units in product.popups):
        return SCHEMA_ORG + "InStoreOnly"
    return SCHEMA_ORG + "SoldOut"


def product_ld(view: DropView, product: ProductView, locale: str) -> dict[str, Any]:
    """The schema.org Product JSON-LD for one SKU, priced for this visitor."""
    fallback = view.market.default_locale
    offer = product.offer
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "sku": product.sku.sku,
        "name": localized(product.sku.name, locale, fallback),
        "color": localized(product.sku.colour, locale, fallback),
        "offers": {
            "@type": "Offer",
            "price": formatting.major_units(offer.price_minor, offer.currency),
            "priceCurrency": offer.currency,
            "availability": availability(view, product),
        },
    }


def landing_context(view: DropView, where: PageLocale, nonce: str) -> dict[str, Any]:
    locale, zone = where.locale, where.zone
    fallback = view.market.default_locale
    drop = view.catalog.drop

    def text(value: LocalizedText) -> str:
        return localized(value, locale, fallback)

    def local_time(moment: datetime, in_zone: str | None = None) -> str:
        """The moment in the visitor's zone (named), or in ``in_zone`` (a pop-up's own local time)."""
        if in_zone:
            return formatting.local_datetime(moment, in_zone, locale)
        return f"{formatting.local_datetime(moment, zone, locale)} ({formatting.zone_name(zone, locale)})"

    return {
        **page_frame(locale, nonce),
        "view": view,
        "drop": drop,
        "status": view.status.value,
        "text": text,
        "local_time": local_time,
        "starts_in": formatting.relative_time(drop.starts_at - view.now, locale),
        "ends_in": formatting.relative_time(drop.ends_at - view.now, locale),
        "product_ld": lambda product: product_ld(view, product, locale),
        "canonical": f"{where.url}?lang={locale}",
        "default_url": where.url,
        "alternates": [
            {"lang": tag, "name": display_name(tag), "href": f"{where.url}?lang={tag}", "current": tag == locale}
            for tag in where.alternates
        ],
    }
