"""The shared vocabulary: drops, locations, SKUs and offers.

Records (``chalicelib.core.records``) for what crosses a trust boundary: their fields' rules are
checked by pydantic on input and by ``records.read`` on what the store gives back. Plain
dataclasses for values our own code computes on the hot path.

Money is always integer minor units (cents; yen have none) with its ISO 4217 currency beside it.
Times are timezone-aware UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Literal, NamedTuple
from zoneinfo import ZoneInfo

from chalicelib.core.records import Record, Rule

LocalizedText = dict[str, str]
"""Copy per locale (``{"en": "…", "fr": "…"}``); ``localized`` picks one with a fallback."""

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
LABEL_PATTERN = r"^[a-z0-9-]{1,40}$"
"""Lower-case labels: tiers, cohorts, rule and experiment ids."""

Slug = Annotated[str, Rule(pattern=SLUG_PATTERN)]
SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,31}$"
SkuCode = Annotated[str, Rule(pattern=SKU_PATTERN)]
SizeLabel = Annotated[str, Rule(pattern=r"^[^#]{1,16}$")]  # '#' separates sort-key parts
Label = Annotated[str, Rule(pattern=LABEL_PATTERN)]
CurrencyCode = Annotated[str, Rule(pattern=r"^[A-Z]{3}$")]


def _whole(value: object) -> object:
    """JSON's ``1.0`` is the number 1: a whole float is an int; strings and other floats are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


MinorUnits = Annotated[int, Rule(ge=0, strict=True)]
Count = Annotated[int, Rule(strict=True, before=_whole)]
"""A number of things in a request body (units, people through a door): a whole number."""
TRYON_ID_PATTERN = r"^[0-9a-f]{17}$"
TryOnId = Annotated[str, Rule(pattern=TRYON_ID_PATTERN)]
"""Milliseconds since the epoch (11 hex digits) then 24 random bits: ids sort in request order."""
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters, and the bidi controls that would make a name or address display as another."""
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value) or CONTROL_CHARS.search(value):
        raise ValueError("not an email address")
    return value


EmailAddress = Annotated[str, Rule(max_length=254, after=(_email,))]
HOLD_ID_PATTERN = r"^h[0-9a-f]{17}$"
HoldId = Annotated[str, Rule(pattern=HOLD_ID_PATTERN)]
"""A checkout hold's id: ``h`` and a try-on-shaped id, so a stock item's holds map tells the two apart."""


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return value


AwareDatetime = Annotated[datetime, Rule(after=(_require_utc,))]

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
"""The years a time someone sends may fall in: beyond them it is a typo or a probe (year 9999 would
overflow the time-zone arithmetic further on)."""


def _sent_time(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("give the time as an ISO 8601 string with its offset")
    return value


def _in_range(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


SentTime = Annotated[datetime, Rule(before=_sent_time, after=(_require_utc, _in_range))]
"""A time in a request body: an ISO 8601 string with an offset (no epoch numbers), in a sane year."""


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as the API writes times."""
    return moment.isoformat().replace("+00:00", "Z")


def local_day(zone: str, moment: datetime) -> date:
    """The date at ``moment`` in ``zone`` (a pop-up's day, for its counters and slots)."""
    return moment.astimezone(ZoneInfo(zone)).date()


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True, slots=True)
class Line:
    """Units of one SKU and size in a basket, a booking or a hold."""

    sku: str
    size: str
    qty: int


def merge_lines(lines: Iterable[Line]) -> tuple[Line, ...]:
    """One line per (SKU, size), quantities summed, in first-seen order (a transaction may touch an
    item only once)."""
    merged: dict[tuple[str, str], int] = {}
    for line in lines:
        merged[(line.sku, line.size)] = merged.get((line.sku, line.size), 0) + line.qty
    return tuple(Line(sku, size, qty) for (sku, size), qty in merged.items())


def localized(text: LocalizedText, locale: str, fallback: str) -> str:
    """The copy for ``locale`` (or its language), else ``fallback``'s, else any."""
    if locale in text:
        return text[locale]
    language = locale.split("_", 1)[0]
    if language in text:
        return text[language]
    return text.get(fallback) or next(iter(text.values()), "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Market(Record):
    """Where a drop sells: the countries it serves, their currency and their locales (first is default)."""

    id: str
    countries: tuple[str, ...]
    currency: CurrencyCode
    locales: Annotated[tuple[str, ...], Rule(min_length=1)]
    timezone: str

    @property
    def default_locale(self) -> str:
        return self.locales[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class PickupSchedule(Record):
    """A pop-up's pickup slots: daily opening hours in local time, slot length and capacity per slot."""

    opens: time
    closes: time
    slot_minutes: Annotated[int, Rule(ge=5, le=240)]
    capacity: Annotated[int, Rule(ge=1, le=1_000)]
    lead_minutes: Annotated[int, Rule(ge=0, le=1_440)] = 30  # how soon before its start a slot closes

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening hours are local wall-clock times, without an offset")
        if self.opens >= self.closes:
            raise ValueError("slots must start before they end")


@dataclass(frozen=True, slots=True, kw_only=True)
class TryOnRules(Record):
    """How a pop-up runs try-ons, so that they can delay a buyer but never lock one out: a garment is
    held briefly until staff call the shopper (then for the fitting), a visitor holds a few at most,
    and try-ons leave the last ``keep_for_buyers`` pieces of each size to be reserved."""

    hold_minutes: Annotated[int, Rule(ge=1, le=15)] = 5  # until staff call: a scan is not a fitting
    called_minutes: Annotated[int, Rule(ge=1, le=30)] = 10  # from the call, once: never renewed
    per_visitor: Annotated[int, Rule(ge=1, le=5)] = 3
    keep_for_buyers: Annotated[int, Rule(ge=0, le=50)] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Location(Record):
    """Where stock sits: the web shop (ships) or a pop-up (address, timezone, opening window, pickup slots)."""

    id: Slug
    kind: Literal["web", "popup"]
    name: LocalizedText
    timezone: str
    address: str | None = None
    city: str | None = None
    country: Annotated[str, Rule(pattern=r"^[A-Z]{2}$")] | None = None  # a pop-up sells in its country's market
    latitude: Annotated[float, Rule(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Rule(ge=-180, le=180)] | None = None
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    pickup: PickupSchedule | None = None
    tryon: TryOnRules = field(default_factory=TryOnRules)

    def is_open(self, now: datetime) -> bool:
        """Within its opening window (a pop-up without one is always open)."""
        return (self.opens_at is None or self.opens_at <= now) and (self.closes_at is None or now < self.closes_at)

    def has_ended(self, now: datetime) -> bool:
        return self.closes_at is not None and now >= self.closes_at


def _no_parent(path: str) -> str:
    if ".." in path or "//" in path:
        raise ValueError("a media path stays under the media origin")
    return path


MediaPath = Annotated[str, Rule(pattern=r"^[a-z0-9][a-z0-9/._-]{0,200}$", after=(_no_parent,))]
"""A file under the media origin (``/media/`` behind CloudFront; ``media/`` locally)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FitVideo(Record):
    """A short fit video: a poster shown first, the video loaded only when played, captions per locale."""

    src: MediaPath
    poster: MediaPath
    width: Annotated[int, Rule(ge=16, le=4096)]
    height: Annotated[int, Rule(ge=16, le=4096)]
    captions: dict[str, MediaPath] = field(default_factory=dict)  # WebVTT per locale


@dataclass(frozen=True, slots=True, kw_only=True)
class Fabric(Record):
    """Where a garment's cloth comes from and who made it (the microfactory), with care notes."""

    composition: LocalizedText
    origin: LocalizedText
    maker: Annotated[str, Rule(min_length=1, max_length=80)]
    maker_city: Annotated[str, Rule(max_length=80)] | None = None
    care: LocalizedText


@dataclass(frozen=True, slots=True, kw_only=True)
class Sku(Record):
    """One colourway of a product, with its sizes, list prices and unit costs per currency."""

    sku: SkuCode
    product: str
    name: LocalizedText
    colour: LocalizedText
    swatch: Annotated[str, Rule(pattern=r"^#[0-9a-fA-F]{6}$")]
    sizes: Annotated[tuple[SizeLabel, ...], Rule(min_length=1)]
    list_prices: dict[CurrencyCode, MinorUnits]
    costs: dict[CurrencyCode, MinorUnits]
    fit_video: FitVideo | None = None
    fabric: Fabric | None = None
    image: MediaPath | None = None  # "<path>": pictures at <path>-<width>.webp for each PRODUCT_IMAGE_WIDTHS
    packaging: Annotated[str, Rule(pattern=r"^[a-z0-9-]{1,40}$")] = "standard"  # how it is packed (return rates)
    # Earlier list prices and until when each applied, per currency (pricing.reference): the "was" price.
    price_history: dict[CurrencyCode, tuple[tuple[AwareDatetime, MinorUnits], ...]] = field(default_factory=dict)


PRODUCT_IMAGE_WIDTHS = (360, 720)
"""The widths each product picture is stored at (4:3), for ``srcset``: a phone's card, and twice it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitingRoom(Record):
    """A queue in front of the launch: from ``QUEUE_LEAD`` before the drop opens until ``minutes``
    after, shoppers are let in ``admit_per_minute`` at a time, in the order they arrived."""

    admit_per_minute: Annotated[int, Rule(ge=10, le=100_000)] = 300
    minutes: Annotated[int, Rule(ge=5, le=24 * 60)] = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class Drop(Record):
    slug: Slug
    name: LocalizedText
    tagline: LocalizedText
    description: LocalizedText
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    published: bool = True
    markets: Annotated[tuple[Market, ...], Rule(min_length=1)]
    location_ids: Annotated[tuple[str, ...], Rule(min_length=1)]
    scarcity_threshold: Annotated[int, Rule(ge=0)] = 5
    revision: Annotated[int, Rule(ge=0)] = 0  # the studio's edits are conditional on it
    generation: Annotated[int, Rule(ge=0)] = 0  # the live set of products and stock: an import stages the next
    waiting_room: WaitingRoom | None = None  # off unless the studio turns it on for the launch
    stock_shards: Annotated[int, Rule(ge=1, le=64)] = 1  # stock items per size and place (stock/shards.py)
    popup_costs: dict[Slug, MinorUnits] = field(default_factory=dict)
    """What each pop-up cost for this drop (rent, staff), in its market's currency: new customers' cost."""

    @property
    def default_market(self) -> Market:
        return self.markets[0]

    @property
    def locales(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for market in self.markets:
            seen.update(dict.fromkeys(market.locales))
        return tuple(seen)


class DropStatus(StrEnum):
    TEASER = "teaser"
    LIVE = "live"
    SOLD_OUT = "sold_out"
    ENDED = "ended"


BATCH_ID_PATTERN = r"^[0-9a-f]{12}$"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductionBatch(Record):
    """Pieces a microfactory is making for the drop: one SKU, how many of each size, where they go
    and the day (the place's own) they are due. ``received_at`` is set once they arrive and join
    the stock there."""

    id: Annotated[str, Rule(pattern=BATCH_ID_PATTERN)]
    sku: SkuCode
    location: Slug
    ready_on: date
    units: Annotated[dict[SizeLabel, Annotated[int, Rule(ge=1, le=10_000)]], Rule(min_length=1, max_length=20)]
    received_at: AwareDatetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DropCatalog(Record):
    """A drop with everything that changes rarely: its SKUs (in display order), locations and the
    production batches planned for it."""

    drop: Drop
    skus: tuple[Sku, ...]
    locations: tuple[Location, ...]
    batches: tuple[ProductionBatch, ...] = ()


class Offer(NamedTuple):
    """The price a visitor sees for a SKU and how it was decided.

    A named tuple: offers are computed by our own code on every request from validated catalog
    data, so they are not validated again (pydantic guards what crosses a boundary), and a view
    builds twenty (decision 113: a frozen dataclass's ``__init__`` is twice the cost).
    """

    currency: str
    list_minor: int
    price_minor: int
    discount_bps: int
    rules: tuple[str, ...]
    decision_id: str
    expires_at: datetime
    reference_minor: int  # the lowest list price of the prior 30 days: the only "was" price shown
    personalized: bool  # the price depends on who is asking (a segment or experiment cell): said so
    offer_token: str | None = None

    @property
    def struck_minor(self) -> int | None:
        """The price to strike through beside this one, if any: the reference, when below it."""
        return self.reference_minor if self.price_minor < self.reference_minor else None
