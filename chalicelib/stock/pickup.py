"""Local pickup: the slots a pop-up offers, booking one with its stock, cancelling, and staff marking.

A booking is priced by the server (offer tokens still admitted by the guardrail, else afresh), then
written in one transaction with its idempotency record: a retry with the same ``Idempotency-Key``
and body gets the first answer, whether the first attempt's reply was lost or it is still in flight.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, ConfigDict, Field

from chalicelib.catalog.reader import Catalog
from chalicelib.config import settings
from chalicelib.core.errors import Conflict, NotFound, Unauthorized, Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import (
    CONTROL_CHARS,
    DropStatus,
    EmailAddress,
    HoldId,
    Line,
    SentTime,
    Slug,
    TryOnId,
    epoch_seconds,
    iso,
    local_day,
    localized,
)
from chalicelib.core.tokens import InvalidToken, Purpose, sign, verify
from chalicelib.outbox.ports import QueuedMessage
from chalicelib.pricing.budgets import charges
from chalicelib.pricing.counters import FULL_PRICE, PlaceDay, SoldLine, booking_counts
from chalicelib.shop.ports import Edge
from chalicelib.shop.quotes import PricedLine, QuoteLine, basket_lines, price_lines
from chalicelib.shop.shopper import ShopperDrop, priced_at
from chalicelib.stock.checkout import pickup_popup
from chalicelib.stock.limits import booking_limits, customer_key
from chalicelib.stock.messages import booking_messages, cancellation_message
from chalicelib.stock.ports import (
    BookedLine,
    Booking,
    BookingState,
    BookingStore,
    CodeTaken,
    ContactDetails,
    HeldUnits,
    HoldGone,
    HoldReleaser,
    IdempotencyRecord,
    KeyAlreadyUsed,
    OutOfStock,
    SlotClaim,
)
from chalicelib.stock.shards import slot_shards
from chalicelib.stock.slots import Slot, bookable_slot, day_slots

BOOKING_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: a code read aloud at a till or typed from a screenshot cannot be misread."""
BOOKING_CODE_LENGTH = 8
IDEMPOTENCY_HOURS = 24
_CODE_ATTEMPTS = 3
MAX_SLOT_DAYS_AHEAD = 60


def _name(value: str) -> str:
    value = " ".join(value.split())
    if not value or CONTROL_CHARS.search(value):
        raise ValueError("a name needs at least one visible character")
    return value


class Contact(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(max_length=80), AfterValidator(_name)]
    email: EmailAddress
    marketing_consent: bool = False  # the shopper ticked "tell me about new drops"


class PickupRequest(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)  # a client's prices are dropped here

    drop: Slug
    popup: Slug
    slot_start: SentTime
    items: tuple[QuoteLine, ...] = Field(min_length=1, max_length=20)
    contact: Contact
    offer_tokens: tuple[Annotated[str, Field(max_length=512)], ...] = Field(default=(), max_length=20)
    tryon_id: TryOnId | None = None  # the try-on it followed: its unit becomes the booking's
    hold_id: HoldId | None = None  # the visitor's checkout hold: its units become the booking's


class CancelForm(Model):
    """The confirmation page's cancel form: the cancel token, as the page carries it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    t: Annotated[str, Field(min_length=1, max_length=1024)]


class StaffMark(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Literal[BookingState.PICKED_UP, BookingState.NO_SHOW]


BOOKING_CODE = re.compile(f"^[{BOOKING_CODE_ALPHABET}]{{{BOOKING_CODE_LENGTH}}}$")


def checked_code(code: str) -> str:
    """A booking code as written on the confirmation (case and spaces forgiven); 404 if it can't be one."""
    normalized = code.replace(" ", "").replace("-", "").upper()
    if not BOOKING_CODE.match(normalized):
        raise NotFound("There is no such booking.", code="booking_not_found")
    return normalized


@dataclass(frozen=True)
class Answer:
    """A booking's 201 body; ``replayed`` when it is an earlier request's answer to the same key."""

    body: dict[str, Any]
    replayed: bool = False
    converted: bool = False  # the booking took the held units it was given


def new_booking_code() -> str:
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(BOOKING_CODE_LENGTH))


# --- slots ---------------------------------------------------------------------------------------


class SlotsQuery(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


def popup_slots(
    catalog: Catalog, store: BookingStore, popup_id: str, query: SlotsQuery, now: datetime
) -> dict[str, Any]:
    """A pop-up's slots on one local day (today there by default), in its local time, with the
    places left in each."""
    location = catalog.location(popup_id)
    schedule = location.pickup
    if location.kind != "popup" or schedule is None:
        raise NotFound(f"{popup_id} does not offer pickup.", code="popup_not_found")
    try:
        day = date.fromisoformat(query.date) if query.date else local_day(location.timezone, now)
    except ValueError:
        raise Unprocessable(f"{query.date} is not a date.", code="invalid_date") from None
    if abs((day - now.date()).days) > MAX_SLOT_DAYS_AHEAD:
        raise Unprocessable(f"Slots are listed up to {MAX_SLOT_DAYS_AHEAD} days ahead.", code="date_out_of_range")
    zone = ZoneInfo(location.timezone)
    slots = day_slots(location, schedule, day)
    taken = store.slot_bookings(popup_id, iso(slots[0].start), iso(slots[-1].start)) if slots else {}
    lead = timedelta(minutes=schedule.lead_minutes)
    return {
        "popup": popup_id,
        "date": day.isoformat(),
        "timezone": location.timezone,
        "slots": [
            {
                "start": slot.local_start(zone).isoformat(),
                "end": slot.local_end(zone).isoformat(),
                "start_utc": iso(slot.start),
                "capacity": schedule.capacity,
                "remaining": _remaining(slot, schedule.capacity, taken, now + lead),
            }
            for slot in slots
        ],
    }


@dataclass(frozen=True, slots=True)
class OpenSlot:
    start: datetime  # UTC
    remaining: int


def open_slots(
    catalog: Catalog, store: BookingStore, popup_id: str, now: datetime, days: int = 3
) -> list[tuple[date, list[OpenSlot]]]:
    """The pop-up's slots with places left, per local day, from today there for ``days`` days
    (days with none left are skipped)."""
    location = catalog.location(popup_id)
    schedule = location.pickup
    if schedule is None:
        return []
    today = local_day(location.timezone, now)
    lead = now + timedelta(minutes=schedule.lead_minutes)
    listed = []
    for ahead in range(days):
        slots = day_slots(location, schedule, today + timedelta(days=ahead))
        if not slots:
            continue
        taken = store.slot_bookings(popup_id, iso(slots[0].start), iso(slots[-1].start))
        free = [OpenSlot(s.start, _remaining(s, schedule.capacity, taken, lead)) for s in slots]
        free = [s for s in free if s.remaining > 0]
        if free:
            listed.append((today + timedelta(days=ahead), free))
    return listed


def _remaining(slot: Slot, capacity: int, taken: dict[str, int], closes_until: datetime) -> int:
    """Places left in a slot; none once it starts within the lead time."""
    if slot.start <= closes_until:
        return 0
    return max(capacity - taken.get(iso(slot.start), 0), 0)


# --- booking -------------------------------------------------------------------------------------


def request_hash(request: PickupRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Answer:
    if record.request_hash != digest:
        raise Unprocessable(
            "This Idempotency-Key was used for a different request. Use a new key for a new booking.",
            code="idempotency_key_reused",
        )
    return Answer(record.response, replayed=True)


def at_the_popup(catalog: Catalog, request: PickupRequest, viewer: Edge) -> Edge:
    """The viewer as priced for a pickup: at the pop-up's market."""
    return priced_at(pickup_popup(catalog.drop(request.drop), request.popup), viewer)


def release_expired_holds(holds: HoldReleaser, booking: Booking, short: OutOfStock, now: datetime) -> bool:
    """Release the expired holds sitting on the short lines' stock; True if any units came free."""
    freed = 0
    for shortage in short.shortages:
        if shortage.releasable:
            freed += holds.release_expired(booking.ref(Line(shortage.sku, shortage.size, shortage.requested)), now)
    return freed > 0


def book_pickup(
    store: BookingStore,
    holds: HoldReleaser,
    shopper: ShopperDrop,
    request: PickupRequest,
    key: str,
    now: datetime,
    holding: Callable[[tuple[Line, ...]], HeldUnits | None] = lambda lines: None,
) -> Answer:
    """Book the request's lines and a place in its slot, in one transaction. ``holding(lines)`` says
    which held units (the visitor's checkout hold or try-on) the booking takes first; it is asked
    only once the request is known not to be a replay. A try-on whose hold lapsed meanwhile is
    booked from what is available instead; a lapsed checkout hold is 409 ``hold_expired``."""
    digest = request_hash(request)
    earlier = store.idempotency_record(key, epoch_seconds(now))
    if earlier is not None:
        return _replay(earlier, digest)
    if shopper.view.status in (DropStatus.TEASER, DropStatus.ENDED):
        raise Conflict("This drop is not on sale right now.", code="drop_not_live")
    location = pickup_popup(shopper.view.catalog, request.popup)
    slot = bookable_slot(location, request.slot_start, now)
    lines = basket_lines(request.items)
    customer = customer_key(request.contact.email)
    before = store.reserved(shopper.view.catalog.drop.slug, customer, shopper.visitor.id)
    held = holding(lines)
    priced = price_lines(shopper, lines, request.offer_tokens, discounted_before=before.discounted)
    currency = shopper.pricer.currency
    packed = {sku.sku: sku.packaging for sku in shopper.view.catalog.skus}
    items = tuple(
        BookedLine(
            p.sku, p.size, p.qty, p.list_minor, p.unit_minor, p.line_minor, p.decision_id, packaging=packed[p.sku]
        )
        for p in priced
    )
    assert location.pickup is not None  # bookable_slot checked it
    capacity, shards = location.pickup.capacity, shopper.view.catalog.drop.stock_shards
    claim = SlotClaim(location.id, iso(slot.start), iso(slot.end), capacity, slot_shards(capacity, shards))
    day = local_day(location.timezone, now)
    granted = ((line.budget_rule, line.granted_minor) for line in priced if line.budget_rule)
    spend, budgets = charges(shopper.pricer.policy, currency, day, location.id, granted)
    limits = booking_limits(shopper.pricer.policy, budgets)
    expires = epoch_seconds(now + timedelta(hours=IDEMPOTENCY_HOURS))
    released = False
    for _ in range(_CODE_ATTEMPTS + 1):  # + 1: a lapsed try-on hold costs one attempt
        code = new_booking_code()
        booking = Booking(
            code=code,
            drop=shopper.view.catalog.drop.slug,
            generation=shopper.view.catalog.drop.generation,
            popup=location.id,
            timezone=location.timezone,
            slot_start=claim.start,
            slot_end=claim.end,
            items=items,
            total_minor=sum(item.line_minor for item in items),
            currency=currency,
            contact=ContactDetails(request.contact.name, request.contact.email, request.contact.marketing_consent),
            visitor=shopper.visitor.id,
            numbers=_numbers(shopper, priced, PlaceDay(location.id, day)),
            spend=spend,  # charged to budgets now, given back if the booking is cancelled
            state=BookingState.BOOKED,
            booked_at=iso(now),
            locale=shopper.locale,
            customer=customer,
            discounted_units=sum(line.discounted_units for line in priced),
        )
        refused = limits.refusal(before, booking.reserved)  # readably, before any write is tried
        if refused is not None:
            raise refused
        drop_name = localized(shopper.view.catalog.drop.name, shopper.locale, shopper.view.market.default_locale)
        messages = booking_messages(booking, drop_name, now, settings().reminder_hours)
        response = {**booking_summary(booking), "cancel_token": sign(Purpose.CANCEL, {"b": code})}
        record = IdempotencyRecord(key, digest, response, expires)
        try:
            store.book(booking, claim, record, day, epoch_seconds(now), held, messages, limits, shards)
        except HoldGone:
            if held is None or held.source == "hold":
                raise
            held = None  # the try-on's unit went back on the rail: book from what is available
            continue
        except KeyAlreadyUsed:
            raced = store.idempotency_record(key, epoch_seconds(now))
            if raced is None:  # pragma: no cover - the record that cancelled us cannot vanish this fast
                raise Conflict("A request with this Idempotency-Key is in progress.", code="in_progress") from None
            return _replay(raced, digest)
        except CodeTaken:
            continue
        except OutOfStock as short:
            if released or not release_expired_holds(holds, booking, short, now):
                raise
            released = True  # expired holds sat on the stock: freed, so try once more
            continue
        return Answer(response, converted=held is not None)
    raise Conflict("Could not allocate a booking code; please retry.", code="code_exhausted")  # pragma: no cover


def _numbers(shopper: ShopperDrop, priced: list[PricedLine], where: PlaceDay) -> dict[str, int]:
    """What this booking adds to the studio's cohort, pop-up day and experiment-cell counters."""
    products = {product.sku.sku: product for product in shopper.view.products}
    currency = shopper.pricer.currency
    sold = [
        SoldLine(
            cohort=(products[line.sku].offer.rules or (FULL_PRICE,))[0] if line.discounted_units else FULL_PRICE,
            qty=line.qty,
            list_minor=line.list_minor,
            paid_minor=line.line_minor,
            cost_minor=products[line.sku].sku.costs.get(currency, 0),
        )
        for line in priced
    ]
    return booking_counts(sold, currency, (a.label for a in shopper.assignments), where)


def booking_summary(booking: Booking) -> dict[str, Any]:
    """A stored booking as the API shows it (no contact details, no token)."""
    zone = ZoneInfo(booking.timezone)
    return {
        "code": booking.code,
        "state": booking.state.value,
        "popup": booking.popup,
        "slot_start": datetime.fromisoformat(booking.slot_start).astimezone(zone).isoformat(),
        "slot_end": datetime.fromisoformat(booking.slot_end).astimezone(zone).isoformat(),
        "items": [
            {
                "sku": item.sku,
                "size": item.size,
                "qty": item.qty,
                "list_minor": item.list_minor,
                "unit_minor": item.unit_minor,
                "line_minor": item.line_minor,
                "decision_id": item.decision_id,
            }
            for item in booking.items
        ],
        "total_minor": booking.total_minor,
        "currency": booking.currency,
    }


# --- after booking -------------------------------------------------------------------------------


def authorized_booking(store: BookingStore, code: str, cancel_token: str) -> Booking:
    """The booking a cancel token was made for; ``Unauthorized`` for any other token."""
    try:
        claim = verify(Purpose.CANCEL, cancel_token)
    except InvalidToken:
        raise Unauthorized("That cancel link is not valid or has expired.", code="invalid_token") from None
    if not isinstance(claim, dict) or claim.get("b") != code:
        raise Unauthorized("That cancel link is for another booking.", code="invalid_token")
    booking = store.booking(code)
    if booking is None:
        raise NotFound("There is no such booking.", code="booking_not_found")
    return booking


def cancel_pickup(store: BookingStore, code: str, cancel_token: str, now: datetime) -> dict[str, Any]:
    """Cancel a booking and give back its stock and slot, exactly once; a repeat changes nothing."""
    booking = authorized_booking(store, code, cancel_token)
    changed = _leave_booked(store, booking, BookingState.CANCELLED, now, (cancellation_message(booking, now),))
    return {**booking_summary(store.booking(code) or booking), "changed": changed}


def mark_pickup(store: BookingStore, code: str, popup: str, to: BookingState, now: datetime) -> dict[str, Any]:
    """Pop-up staff record a pickup as collected or missed."""
    booking = store.booking(code)
    if booking is None or booking.popup != popup:
        raise NotFound("There is no such booking at this pop-up.", code="booking_not_found")
    early = now < datetime.fromisoformat(booking.slot_start)
    if to is BookingState.NO_SHOW and booking.state is BookingState.BOOKED and early:
        raise Conflict("A pickup can be marked as missed only once its slot has started.", code="too_early")
    changed = _leave_booked(store, booking, to, now)
    return {**booking_summary(store.booking(code) or booking), "changed": changed}


def _leave_booked(
    store: BookingStore, booking: Booking, to: BookingState, now: datetime, messages: tuple[QueuedMessage, ...] = ()
) -> bool:
    if booking.state is to:
        return False
    if booking.state is BookingState.BOOKED and store.leave_booked(
        booking, to, iso(now), local_day(booking.timezone, now), messages
    ):
        return True
    current = store.booking(booking.code) or booking
    if current.state is to:
        return False  # someone did the same a moment ago
    raise Conflict(
        f"This booking is {current.state.replace('_', ' ')}, so it cannot be {to.value.replace('_', ' ')}.",
        code="not_booked",
    )
