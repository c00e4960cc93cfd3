"""The landing page: the template context for a DropView, and its rendering."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from chalicelib.config import settings
from chalicelib.core.models import PRODUCT_IMAGE_WIDTHS, DropStatus, LocalizedText, Location, Offer, localized
from chalicelib.i18n import formatting
from chalicelib.i18n.locales import display_name
from chalicelib.pages.environment import translations
from chalicelib.pages.frame import page_frame
from chalicelib.shop.storefront import DropView, ProductView

SCHEMA_ORG = "https://schema.org/"


@dataclass(frozen=True)
class ReserveForm:
    """What the product cards' reserve forms need: the visitor's form token and the pop-ups where
    pieces can be picked up, nearest to the visitor first."""

    token: str
    places: tuple[Location, ...]
    adding_to: str | None = None  # the visitor's hold the cards' forms add a piece to
    limit: int = 0  # the most of each piece and size one customer may book (0: no limit), said on the page


@dataclass(frozen=True)
class PageLocale:
    """How to speak to this visitor: locale, time zone, and the page's alternates by locale."""

    locale: str
    zone: str
    url: str  # absolute, without query
    alternates: tuple[str, ...]
    asked: bool = False  # the URL named its language (``?lang=``); a bare URL is the x-default page


def availability(view: DropView, product: ProductView) -> str:
    """The schema.org availability of a product for this visitor."""
    if view.status is DropStatus.TEASER:
        return SCHEMA_ORG + "PreOrder"
    if view.status is DropStatus.ENDED:
        return SCHEMA_ORG + "Discontinued"
    if any(units for _, units in product.popups):
        return SCHEMA_ORG + "InStoreOnly"  # reserved online, picked up (and paid) at a pop-up
    return SCHEMA_ORG + "SoldOut"


@dataclass(frozen=True, slots=True)
class Picture:
    """A product picture's sources: the largest as ``src``, every width in ``srcset``."""

    src: str
    srcset: str
    width: int
    height: int


@lru_cache(maxsize=1024)
def picture(image: str, media_url: str) -> Picture:
    """Every visitor's page shows the same pictures: each is worked out once per process."""
    widest = PRODUCT_IMAGE_WIDTHS[-1]
    srcset = ", ".join(f"{media_url}/{image}-{width}.webp {width}w" for width in PRODUCT_IMAGE_WIDTHS)
    return Picture(f"{media_url}/{image}-{widest}.webp", srcset, widest, widest * 3 // 4)


def product_ld(view: DropView, product: ProductView, locale: str, image: str | None = None) -> dict[str, Any]:
    """The schema.org Product JSON-LD for one SKU, priced for this visitor (``image``: an absolute URL).
    Marketers' templates may still give each card its own block; the shipped page has ``drop_ld``."""
    return {"@context": "https://schema.org", **_product_node(view, product, locale, image)}


def drop_ld(view: DropView, locale: str, image: Callable[[ProductView], str | None]) -> dict[str, Any]:
    """Every product's schema.org Product, priced for this visitor, in one JSON-LD graph: one block
    serialized once, where a block per card cost the page a fifth of its render."""
    nodes = [_product_node(view, product, locale, image(product)) for product in view.products]
    return {"@context": "https://schema.org", "@graph": nodes}


def _product_node(view: DropView, product: ProductView, locale: str, image: str | None) -> dict[str, Any]:
    fallback = view.market.default_locale
    offer = product.offer
    extra = {"image": image} if image else {}
    return {
        "@type": "Product",
        "sku": product.sku.sku,
        "name": localized(product.sku.name, locale, fallback),
        "color": localized(product.sku.colour, locale, fallback),
        "offers": {
            "@type": "Offer",
            "price": formatting.major_units(offer.price_minor, offer.currency),
            "priceCurrency": offer.currency,
            "availability": availability(view, product),
            **_struck(offer),
        },
        **extra,
    }


def _struck(offer: Offer) -> dict[str, Any]:
    """The "was" price search engines show struck through: the lowest of the prior 30 days."""
    if offer.struck_minor is None:
        return {}
    return {
        "priceSpecification": {
            "@type": "UnitPriceSpecification",
            "priceType": "https://schema.org/StrikethroughPrice",
            "price": formatting.major_units(offer.struck_minor, offer.currency),
            "priceCurrency": offer.currency,
        }
    }


@dataclass(frozen=True, slots=True)
class PickupChoice:
    """A pop-up a product can be reserved at, as its card's pop-up choice shows it."""

    id: str
    name: str
    units: dict[str, int]  # per size
    total: int
    sizes: str  # its units in words for the option (``"S 2, M 1"``; empty when it has none)


def places_for(product: ProductView, places: tuple[Location, ...], text: Any) -> list[PickupChoice]:
    """The pop-ups a product can be reserved at, nearest first."""
    listed = []
    for place in places:
        if place.pickup is None:
            continue
        units = {size.size: size.available.get(place.id, 0) for size in product.sizes}
        words = ", ".join(f"{size} {count}" for size, count in units.items() if count)
        listed.append(PickupChoice(place.id, text(place.name), units, sum(units.values()), words))
    return listed


def units_at(product: ProductView, places: list[PickupChoice]) -> dict[str, str]:
    """Per size, its units at each of ``places`` (``places_for``'s) as the size chip's script reads
    them (``"paris-marais:4,brooklyn:0"``): one attribute written once, not a loop per chip."""
    return {size.size: ",".join(f"{place.id}:{place.units[size.size]}" for place in places) for size in product.sizes}


@dataclass(frozen=True, slots=True)
class ReserveLinks:
    """Where the cards' forms post, and what they carry (the template reads them on every card)."""

    action: str
    notify: str
    token: str
    adding_to: str
    limit: int
    hold_url: str


@dataclass(frozen=True, slots=True)
class Alternate:
    """The page in one of its languages."""

    lang: str
    name: str
    href: str
    current: bool


@lru_cache(maxsize=256)
def alternates(url: str, locale: str, tags: tuple[str, ...]) -> tuple[Alternate, ...]:
    """The page's language switcher and hreflang links: the same for every view of a drop in a locale."""
    return tuple(Alternate(tag, display_name(tag), f"{url}?lang={tag}", tag == locale) for tag in tags)


def chip_units(at: str) -> dict[str, int]:
    """A size chip's ``data-at`` read back: units per pop-up (what the page's script, the tests and
    the edge benchmark read from a page)."""
    return {place: int(units) for place, _, units in (part.rpartition(":") for part in at.split(",") if part)}


@lru_cache(maxsize=64)
def units_left_words(locale: str, most: int) -> tuple[str, ...]:
    """ "3 left" in the locale's plural forms for 0 to ``most`` units: a size chip under the scarcity
    threshold says it, and a page has dozens of them, each a gettext call in Jinja otherwise."""
    catalog = translations(locale)
    return tuple(catalog.ngettext("%(num)d left", "%(num)d left", units) % {"num": units} for units in range(most + 1))


def next_batches(view: DropView, locale: str) -> dict[str, list[dict[str, str]]]:
    """Per SKU with sizes sold out at the pop-ups: each day (the place's own) a batch not yet received
    brings some of them, with those sizes; each size under the first batch that brings it."""
    if not view.catalog.batches:  # most drops, on every view
        return {}
    gone = {p.sku.sku: [size.size for size in p.sizes if not size.reservable] for p in view.products}
    days: dict[str, dict[date, list[str]]] = {}
    for batch in view.catalog.batches:  # earliest ready first
        if batch.received_at is not None:
            continue
        sizes = days.setdefault(batch.sku, {})
        taken = {size for listed in sizes.values() for size in listed}
        new = [size for size in gone.get(batch.sku, ()) if size in batch.units and size not in taken]
        if new:
            sizes.setdefault(batch.ready_on, []).extend(new)
    return {
        sku: [
            {"date": formatting.calendar_day(day, locale), "sizes": ", ".join(sizes)} for day, sizes in by_day.items()
        ]
        for sku, by_day in days.items()
        if by_day
    }


def landing_context(
    view: DropView,
    where: PageLocale,
    nonce: str,
    form: ReserveForm | None = None,
    notice: str | None = None,
    in_queue: bool = False,
) -> dict[str, Any]:
    """The landing template's context. ``notice`` is what the page says after an action
    (``released``: the shopper let go of their hold); ``in_queue``: the drop's waiting room gave
    this teaser's viewer their place for the opening."""
    locale, zone = where.locale, where.zone
    fallback = view.market.default_locale
    drop = view.catalog.drop
    form = form or ReserveForm("", view.popups)
    media = settings().media_url
    origin = "/".join(where.url.split("/")[:3])

    def absolute(product: ProductView) -> str | None:
        if not product.sku.image:
            return None
        src = picture(product.sku.image, media).src
        return src if src.startswith("http") else origin + src

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
        "product_ld": lambda product: product_ld(view, product, locale, absolute(product)),
        "drop_ld": lambda: drop_ld(view, locale, absolute),
        "picture": lambda product: picture(product.sku.image, media) if product.sku.image else None,
        "reserve": ReserveLinks(
            action=f"/drops/{drop.slug}/reserve?lang={locale}",
            notify=f"/drops/{drop.slug}/notify?lang={locale}",
            token=form.token,
            adding_to=form.adding_to or "",
            limit=form.limit,
            hold_url=f"/drops/{drop.slug}/holds/{form.adding_to}?lang={locale}" if form.adding_to else "",
        ),
        "gone": lambda product: [size.size for size in product.sizes if not size.reservable],
        "next_batches": next_batches(view, locale),
        "personalized": any(product.offer.personalized for product in view.products),
        "places": lambda product: places_for(product, form.places, text),
        "units_at": units_at,
        "left_words": units_left_words(locale, drop.scarcity_threshold),
        "notice": notice,
        "in_queue": in_queue,
        "canonical": f"{where.url}?lang={locale}" if where.asked else where.url,
        "default_url": where.url,
        "alternates": alternates(where.url, locale, where.alternates),
    }
