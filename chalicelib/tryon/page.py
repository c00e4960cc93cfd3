"""The QR try-on page: one garment at one pop-up, its fit video and fabric, live stock per size, the
visitor's price, and the try-on and pickup actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.config import settings
from chalicelib.core.models import LocalizedText, localized
from chalicelib.i18n import formatting
from chalicelib.i18n.locales import babel_locale
from chalicelib.pages.frame import page_frame
from chalicelib.shop.shopper import ShopperDrop
from chalicelib.tryon.tags import Tag, TagPlace, scan_claim


@dataclass(frozen=True, slots=True)
class SizeAt:
    size: str
    here: int  # units free at this pop-up
    online: int


def media_url(path: str) -> str:
    """A media file's URL: under ``/media`` (CloudFront's S3 origin) unless configured elsewhere."""
    return f"{settings().media_url}/{path}"


def _captions(captions: dict[str, str], locale: str) -> list[dict[str, Any]]:
    """Caption tracks, the visitor's language first and on by default."""
    language = locale.split("_", 1)[0]
    ordered = sorted(captions.items(), key=lambda item: item[0] != language)
    return [
        {
            "src": media_url(path),
            "srclang": tag,
            "label": babel_locale(tag).get_display_name(tag) or tag,
            "default": index == 0 and tag == language,
        }
        for index, (tag, path) in enumerate(ordered)
    ]


def tryon_context(
    shopper: ShopperDrop, place: TagPlace, base_url: str, nonce: str, token: str, now: datetime
) -> dict[str, Any]:
    locale, fallback = shopper.locale, shopper.view.market.default_locale
    sku = place.sku

    def text(value: LocalizedText) -> str:
        return localized(value, locale, fallback)

    product = next((p for p in shopper.view.products if p.sku.sku == sku.sku), None)
    sizes = [SizeAt(s.size, s.available.get(place.popup.id, 0), s.online) for s in product.sizes] if product else []
    here = [s.size for s in sizes if s.here]
    chosen = place.size if place.size in here else next(iter(here), None)  # never a size with none here
    video = sku.fit_video
    popup = place.popup
    return dict(
        **page_frame(locale, nonce),
        text=text,
        drop=place.catalog.drop,
        sku=sku,
        popup=popup,
        ended=popup.has_ended(now),
        open=popup.is_open(now) and place.catalog.drop.starts_at <= now < place.catalog.drop.ends_at,
        closes_at=formatting.local_datetime(popup.closes_at, popup.timezone, locale) if popup.closes_at else None,
        offer=product.offer if product else None,
        sizes=sizes,
        chosen=chosen,
        video=video,
        poster=media_url(video.poster) if video else None,
        video_src=media_url(video.src) if video else None,
        captions=_captions(video.captions, locale) if video else [],
        fabric=sku.fabric,
        qr_token=token,
        scan=scan_claim(Tag(popup.id, sku.sku), shopper.visitor.id),
        drop_url=f"{base_url}/drops/{place.slug}?lang={locale}",
        pickup=popup.pickup is not None,
        zone=popup.timezone,
        zone_name=formatting.zone_name(popup.timezone, locale),
    )
