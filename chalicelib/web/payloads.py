"""The JSON shapes of the shopper API (see openapi.yaml)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from chalicelib.catalog.reader import StockSnapshot, drop_status
from chalicelib.core.models import Drop, DropCatalog, DropStatus, Offer, iso, localized
from chalicelib.shop.shopper import ShopperDrop


def drop_summary(drop: Drop, status: DropStatus, locale: str) -> dict[str, Any]:
    return {
        "slug": drop.slug,
        "name": localized(drop.name, locale, drop.default_market.default_locale),
        "status": status.value,
        "starts_at": iso(drop.starts_at),
        "ends_at": iso(drop.ends_at),
    }


def offer(value: Offer) -> dict[str, Any]:
    return {
        "currency": value.currency,
        "list_minor": value.list_minor,
        "price_minor": value.price_minor,
        "discount_bps": value.discount_bps,
        "reference_minor": value.reference_minor,
        "personalized": value.personalized,
        "rules": list(value.rules),
        "decision_id": value.decision_id,
        "offer_token": value.offer_token,
        "expires_at": iso(value.expires_at),
    }


def drop_detail(shopper: ShopperDrop) -> dict[str, Any]:
    view, locale = shopper.view, shopper.locale
    fallback = view.market.default_locale
    drop = view.catalog.drop
    return {
        "drop": {
            **drop_summary(drop, view.status, locale),
            "tagline": localized(drop.tagline, locale, fallback),
            "locale": locale,
            "currency": view.market.currency,
            "market": view.market.id,
        },
        "locations": [
            {"id": loc.id, "kind": loc.kind, "name": localized(loc.name, locale, fallback), "timezone": loc.timezone}
            for loc in view.catalog.locations
        ],
        "products": [
            {
                "sku": product.sku.sku,
                "name": localized(product.sku.name, locale, fallback),
                "colour": localized(product.sku.colour, locale, fallback),
                "sizes": [{"size": size.size, "available": size.available} for size in product.sizes],
                "offer": offer(product.offer),
            }
            for product in view.products
        ],
    }


def stock(catalog: DropCatalog, snapshot: StockSnapshot, now: datetime) -> dict[str, Any]:
    locations = [loc.id for loc in catalog.locations]
    return {
        "drop": catalog.drop.slug,
        "status": drop_status(catalog.drop, now, snapshot.total).value,
        "as_of": iso(now),
        "products": [
            {
                "sku": sku.sku,
                "sizes": [
                    {"size": size, "available": {loc: snapshot.units(sku.sku, size, loc) for loc in locations}}
                    for size in sku.sizes
                ],
            }
            for sku in catalog.skus
        ],
    }


def stock_etag(body: dict[str, Any]) -> str:
    """A strong validator for a stock answer: what it says, not when (``as_of`` is left out)."""
    fields = {key: value for key, value in body.items() if key != "as_of"}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f'"{digest[:32]}"'
