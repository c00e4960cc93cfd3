"""Creating and editing a drop from the studio's forms: per-locale copy, dates, prices and costs,
pop-up windows and pickup slots. Pure: a form and the drop as it is give the drop as it will be,
or every problem with the form at once.

Prices are typed in major units ("89.00") and stored in minor units (8900); times are typed in the
place's local time and stored in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from chalicelib.core import records
from chalicelib.core.audit import FieldChange, changed_fields
from chalicelib.core.errors import InvalidInput, Unprocessable
from chalicelib.core.models import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    SLUG_PATTERN,
    Drop,
    DropCatalog,
    Location,
    PickupSchedule,
    TryOnRules,
    WaitingRoom,
    localized,
)
from chalicelib.i18n.formatting import currency_digits, major_units
from chalicelib.pricing.reference import with_change
from chalicelib.shop.storefront import popup_currency
from chalicelib.stock.slots import local_instant
from chalicelib.web.request import validation_problems

COPY_FIELDS = ("name", "tagline", "description")
MAX_COPY = {"name": 80, "tagline": 160, "description": 2000}
SLUG = re.compile(SLUG_PATTERN)


class FormProblems:
    """Collects ``{field, problem}`` while a form is read; ``raise_any`` ends it with a 422."""

    def __init__(self) -> None:
        self.found: list[dict[str, str]] = []

    def add(self, field: str, problem: str, label: str | None = None) -> None:
        """``field``: the form field's name (where the page shows the problem); ``label``: what the
        form calls it, if the name is not words."""
        self.found.append({"field": field, "problem": problem, **({"label": label} if label else {})})

    def raise_any(self) -> None:
        if self.found:
            raise Unprocessable("Some fields need fixing.", code="invalid_form", details=self.found)

    def model(self, build: Callable[[], object], prefix: str = "") -> Any:
        """``build()``, with pydantic's problems added under ``prefix``; None if it failed."""
        try:
            return build()
        except ValidationError as error:
            for problem in validation_problems(error, limit=100):
                self.add(f"{prefix}{problem['field']}".rstrip("."), problem["problem"])
            return None


_AMOUNT = re.compile(r"^\d{1,9}([.,]\d{1,4})?$")


def to_minor(text: str, currency: str) -> int:
    """``"89.5"`` in EUR → 8950. ``ValueError`` for anything that is not a non-negative amount with
    at most the currency's decimals."""
    if not _AMOUNT.match(text.strip()):  # no exponents, NaN, underscores or signs: what a person types
        raise ValueError("is not an amount (digits, with a decimal point or comma)")
    try:
        amount = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError("is not an amount") from None
    digits = currency_digits(currency)
    minor = amount.scaleb(digits)
    if not amount.is_finite() or amount < 0 or minor != minor.to_integral_value():
        raise ValueError(f"needs a non-negative amount with at most {digits} decimals")
    if minor > 100_000_000:
        raise ValueError("is too large")
    return int(minor)


def place_name(catalog: DropCatalog, place_id: str) -> str:
    """A place of the drop as the studio names it: in the drop's default language, else its id."""
    place = next((p for p in catalog.locations if p.id == place_id), None)
    return localized(place.name, catalog.drop.default_market.default_locale, "en") if place else place_id


def local_time(moment: datetime | None, zone: str) -> str:
    """A UTC moment as a person reads it in ``zone``, the zone named: "2026-12-24 18:00 (Europe/Paris)"."""
    return "" if moment is None else f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


def local_input(moment: datetime | None, zone: str) -> str:
    """A UTC moment as a ``datetime-local`` input's value in ``zone``."""
    return "" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def studio_zones(catalogs: Iterable[DropCatalog]) -> list[str]:
    """The zones a studio reader may read and type times in: UTC, each drop's home market's, and
    each place's (a pop-up team reads its own)."""
    catalogs = list(catalogs)
    homes = {c.drop.default_market.timezone for c in catalogs}
    return sorted({"UTC", *homes, *(place.timezone for c in catalogs for place in c.locations)})


def checked_zone(zone: str, zones: Iterable[str]) -> str:
    if zone not in zones:
        raise InvalidInput(f"Choose one of the drops' zones, not {zone[:64]!r}.", code="invalid_query")
    return zone


def from_local(text: str, zone: str) -> datetime:
    """A ``datetime-local`` value read in ``zone``, as UTC. ``ValueError`` if it is not one."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("is not a date and time") from None
    if value.tzinfo is not None:
        raise ValueError("give a local time without an offset")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"give a year between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return local_instant(value.date(), value.time(), ZoneInfo(zone))


def _read(found: FormProblems, form: Mapping[str, str], field: str, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(form[field])
    except KeyError:
        found.add(field, "is missing")
    except ValueError as error:
        found.add(field, str(error) or "is not valid")
    return None


def form_values(catalog: DropCatalog) -> dict[str, str]:
    """The edit form's fields filled from the drop as it is (the inverse of ``edited``)."""
    drop, zone = catalog.drop, catalog.drop.default_market.timezone
    values = {
        "starts_at": local_input(drop.starts_at, zone),
        "ends_at": local_input(drop.ends_at, zone),
        "published": "on" if drop.published else "",
        "revision": str(drop.revision),
        "stock_shards": str(drop.stock_shards),
        **room_values(drop.waiting_room),
    }
    for field in COPY_FIELDS:
        for locale, text in getattr(drop, field).items():
            values[f"{field}.{locale}"] = text
    for sku in catalog.skus:
        for kind, amounts in (("price", sku.list_prices), ("cost", sku.costs)):
            for currency, minor in amounts.items():
                values[f"{kind}.{sku.sku}.{currency}"] = major_units(minor, currency)
    for place in catalog.locations:
        if place.kind != "popup":
            continue
        values[f"opens.{place.id}"] = local_input(place.opens_at, place.timezone)
        values[f"closes.{place.id}"] = local_input(place.closes_at, place.timezone)
        for field, value in records.dump(place.tryon).items():
            values[f"tryon.{place.id}.{field}"] = str(value)
        cost = drop.popup_costs.get(place.id)
        values[f"popup_cost.{place.id}"] = "" if cost is None else major_units(cost, popup_currency(catalog, place))
        if place.pickup is not None:
            values[f"slots_open.{place.id}"] = place.pickup.opens.strftime("%H:%M")
            values[f"slots_close.{place.id}"] = place.pickup.closes.strftime("%H:%M")
            values[f"slot_minutes.{place.id}"] = str(place.pickup.slot_minutes)
            values[f"capacity.{place.id}"] = str(place.pickup.capacity)
    return values


ROOM_FIELDS = {"admit_per_minute": "admit_per_minute", "room_minutes": "minutes"}
"""The waiting room's form fields and the settings they fill."""


def room_values(room: WaitingRoom | None) -> dict[str, str]:
    """The waiting room's fields: its settings, or the defaults to start from while it is off."""
    shown = room or WaitingRoom()
    return {"waiting_room": "on" if room else "", **{f: str(getattr(shown, s)) for f, s in ROOM_FIELDS.items()}}


def _edited_room(found: FormProblems, form: Mapping[str, str]) -> WaitingRoom | None:
    if form.get("waiting_room") != "on":
        return None
    settings = {setting: _read(found, form, field, int) for field, setting in ROOM_FIELDS.items()}
    start = len(found.found)
    room: WaitingRoom | None = found.model(lambda: records.validate(WaitingRoom, settings))
    for problem in found.found[start:]:  # the setting's name as the form names it
        problem["field"] = next((f for f, s in ROOM_FIELDS.items() if s == problem["field"]), problem["field"])
    return room


_DROP_LABELS = {
    "starts_at": "Starts",
    "ends_at": "Ends",
    "published": "Published",
    "waiting_room": "Waiting room",
    "admit_per_minute": "Waiting room: shoppers let in per minute",
    "room_minutes": "Waiting room: minutes it stays on after the start",
    "stock_shards": "Stock records per size",
    "ready_on": "Ready on",
    "units": "Units",
}


_POPUP_LABELS = {
    "opens": "opens",
    "closes": "closes",
    "slots_open": "pickup slots from",
    "slots_close": "pickup slots to",
    "slot_minutes": "minutes per pickup slot",
    "capacity": "capacity per pickup slot",
    "tryon.hold_minutes": "try-on hold until staff call (minutes)",
    "tryon.called_minutes": "try-on hold after the call (minutes)",
    "tryon.per_visitor": "try-ons one shopper may hold",
    "tryon.keep_for_buyers": "pieces of each size kept for buyers",
    "popup_cost": "what it cost for this drop",
}


def field_label(catalog: DropCatalog, field: str) -> str:
    """What the edit form calls a field, for a person: ``price.TEE.EUR`` → "Price of TEE (EUR)"."""
    zone = catalog.drop.default_market.timezone
    head, _, rest = field.partition(".")
    if field in ("starts_at", "ends_at"):
        return f"{_DROP_LABELS[field]} ({zone})"
    if field in _DROP_LABELS:
        return _DROP_LABELS[field]
    if head == "units" and rest:
        return f"Units of size {rest}"
    if head in COPY_FIELDS:
        return f"{head.capitalize()} ({rest})"
    if head in ("price", "cost"):
        sku, _, currency = rest.rpartition(".")
        return f"{'Price' if head == 'price' else 'Unit cost'} of {sku} ({currency})"
    place_id, _, setting = rest.partition(".")
    place = next((p for p in catalog.locations if p.id == place_id), None)
    key = f"tryon.{setting}" if head == "tryon" else head
    if place is None or key not in _POPUP_LABELS:
        return field
    name = place_name(catalog, place.id)
    zone_note = f" ({place.timezone})" if head in ("opens", "closes", "slots_open", "slots_close") else ""
    if head == "popup_cost":
        zone_note = f" ({popup_currency(catalog, place)})"
    return f"{name}: {_POPUP_LABELS[key]}{zone_note}"


def audited_values(catalog: DropCatalog) -> dict[str, str]:
    """The edit form's values as the audit log shows them: amounts with their currency, local times
    as people write them, yes or no."""
    values = form_values(catalog)
    del values["revision"]
    for switch in ("published", "waiting_room"):
        values[switch] = "yes" if values[switch] else "no"
    for name, value in values.items():
        if name.startswith(("price.", "cost.")):
            values[name] = f"{value} {name.rsplit('.', 1)[1]}"
        elif name.startswith("popup_cost.") and value:
            place = next(p for p in catalog.locations if p.id == name.partition(".")[2])
            values[name] = f"{value} {popup_currency(catalog, place)}"
        elif name in ("starts_at", "ends_at") or name.startswith(("opens.", "closes.")):
            values[name] = value.replace("T", " ")  # the label names the zone
    return values


def changes(before: DropCatalog, after: DropCatalog) -> tuple[FieldChange, ...]:
    """Every field an edit changed, labelled, before and after, in the merchant's units."""
    return changed_fields(audited_values(before), audited_values(after), partial(field_label, before))


def edited(catalog: DropCatalog, form: Mapping[str, str], now: datetime) -> DropCatalog:
    """The drop with the form applied; ``Unprocessable`` listing every problem otherwise."""
    found = FormProblems()
    drop = catalog.drop
    zone = drop.default_market.timezone
    copy: dict[str, dict[str, str]] = {field: {} for field in COPY_FIELDS}
    for locale in drop.locales:
        for field in COPY_FIELDS:
            text = form.get(f"{field}.{locale}", "").strip()
            if len(text) > MAX_COPY[field]:
                found.add(f"{field}.{locale}", f"is longer than {MAX_COPY[field]} characters")
            elif text:
                copy[field][locale] = text
    for field in COPY_FIELDS:
        if drop.default_market.default_locale not in copy[field]:
            found.add(f"{field}.{drop.default_market.default_locale}", "is needed in the drop's first locale")
    starts = _read(found, form, "starts_at", lambda text: from_local(text, zone))
    ends = _read(found, form, "ends_at", lambda text: from_local(text, zone))
    if starts and ends and starts >= ends:
        found.add("ends_at", "must be after the start")
    skus = []
    for sku in catalog.skus:
        prices = {
            kind: {
                currency: _read(found, form, f"{kind}.{sku.sku}.{currency}", partial(to_minor, currency=currency))
                for currency in sku.list_prices
            }
            for kind in ("price", "cost")
        }
        changed: dict[str, Any] = {"list_prices": prices["price"], "costs": prices["cost"]}
        if None not in prices["price"].values():
            changed["price_history"] = with_change(sku.price_history, sku.list_prices, prices["price"], now)
        skus.append(replace(sku, **changed))
    locations = [_edited_popup(found, place, form) if place.kind == "popup" else place for place in catalog.locations]
    costs = _edited_costs(found, catalog, form) if any(k.startswith("popup_cost.") for k in form) else drop.popup_costs
    room = _edited_room(found, form)
    shards = _read(found, form, "stock_shards", int) if "stock_shards" in form else drop.stock_shards
    new_drop = found.model(
        lambda: records.validate(
            Drop,
            {
                **records.dump(drop),
                **copy,
                "starts_at": starts or drop.starts_at,
                "ends_at": ends or drop.ends_at,
                "published": form.get("published") == "on",
                "waiting_room": room,
                "stock_shards": drop.stock_shards if shards is None else shards,
                "popup_costs": costs,
            },
        )
    )
    found.raise_any()
    return DropCatalog(drop=new_drop, skus=tuple(skus), locations=tuple(locations))


def _edited_costs(found: FormProblems, catalog: DropCatalog, form: Mapping[str, str]) -> dict[str, int]:
    """Each pop-up's cost as the form gives it, in its currency's major units; left empty, none."""
    costs = {}
    for place in catalog.locations:
        field = f"popup_cost.{place.id}"
        if place.kind == "popup" and form.get(field, "").strip():
            minor = _read(found, form, field, partial(to_minor, currency=popup_currency(catalog, place)))
            if minor is not None:
                costs[place.id] = minor
    return costs


PICKUP_FORM_FIELDS = {
    "opens": "slots_open",
    "closes": "slots_close",
    "slot_minutes": "slot_minutes",
    "capacity": "capacity",
    "form": "slots_close",  # a rule across the fields (slots start before they end): shown at the end
}
"""A pop-up's pickup settings and the edit form's fields for them (``<field>.<pop-up id>``)."""


def _edited_popup(found: FormProblems, place: Location, form: Mapping[str, str]) -> Location:
    """The pop-up's opening window, try-on rules and pickup slots from the form."""
    pickup = place.pickup
    key = place.id
    window = {
        name: _read(found, form, f"{name}.{key}", lambda text: from_local(text, place.timezone) if text else None)
        for name in ("opens", "closes")
    }
    rules = {field: _read(found, form, f"tryon.{key}.{field}", int) for field in records.names(TryOnRules)}
    update: dict[str, Any] = {
        "opens_at": window["opens"],
        "closes_at": window["closes"],
        "tryon": found.model(lambda: records.validate(TryOnRules, rules), prefix=f"tryon.{key}."),
    }
    if pickup is not None:
        start = len(found.found)
        update["pickup"] = found.model(
            lambda: records.validate(
                PickupSchedule,
                {
                    **records.dump(pickup),
                    "opens": _read(found, form, f"slots_open.{key}", time.fromisoformat),
                    "closes": _read(found, form, f"slots_close.{key}", time.fromisoformat),
                    "slot_minutes": _read(found, form, f"slot_minutes.{key}", int),
                    "capacity": _read(found, form, f"capacity.{key}", int),
                },
            ),
            prefix=f"pickup.{key}.",
        )
        for problem in found.found[start:]:  # the model's path ("pickup.<id>.capacity") as the form names it
            head = problem["field"].removeprefix(f"pickup.{key}.").split(".")[0]
            if head in PICKUP_FORM_FIELDS:
                problem["field"] = f"{PICKUP_FORM_FIELDS[head]}.{key}"
    if window["opens"] and window["closes"] and window["opens"] >= window["closes"]:
        found.add(f"closes.{key}", "must be after the opening")
    return replace(place, **update)  # discarded if anything above was refused


def new_drop(template: DropCatalog, form: Mapping[str, str], now: datetime) -> DropCatalog:
    """A fresh, unpublished drop shaped like ``template`` (its markets, pop-ups and products),
    starting a week from now for three days: the marketer then edits it and imports its stock."""
    found = FormProblems()
    slug, name = form.get("slug", "").strip(), form.get("name", "").strip()
    if not SLUG.match(slug):
        found.add("slug", "use lower-case letters, digits and dashes")
    if not 1 <= len(name) <= MAX_COPY["name"]:
        found.add("name", f"needs 1 to {MAX_COPY['name']} characters")
    found.raise_any()
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
    copy = {template.drop.default_market.default_locale: name}
    drop = replace(
        template.drop,
        slug=slug,
        name=copy,
        tagline=copy,
        description=copy,
        starts_at=start,
        ends_at=start + timedelta(days=3),
        published=False,
        revision=0,
    )
    return DropCatalog(drop=drop, skus=template.skus, locations=template.locations)
