"""QR try-on at a pop-up: try-on requests that hold a unit, the staff queue, and the funnel from a
scan to a sale.

A try-on holds one unit at the tag's pop-up: briefly until staff call the shopper, then once for the
fitting; finishing or cancelling it gives the unit back, and so does its expiry. Only a visitor who
has just opened the tag's page can ask, and try-ons never take a size's last pieces (the pop-up's
``keep_for_buyers``), so hoarding can delay a buyer but never lock one out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from chalicelib import telemetry
from chalicelib.catalog.reader import Catalog
from chalicelib.core.errors import Conflict, NotFound, Unavailable, Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import (
    TRYON_ID_PATTERN,
    Drop,
    Line,
    SizeLabel,
    TryOnRules,
    epoch_seconds,
    iso,
    local_day,
    localized,
)
from chalicelib.stock.ports import HeldUnits, OutOfStock, PlaceTaken, free_places
from chalicelib.telemetry import logger
from chalicelib.tryon.ports import (
    OPEN_STATES,
    FunnelStep,
    FunnelStore,
    Holds,
    Outcome,
    TryOn,
    TryOnClaim,
    TryOnState,
    TryOnStore,
)
from chalicelib.tryon.tags import MAX_TOKEN_LENGTH, TagPlace, check_scan, locate, read_tag

QUEUE_WINDOW = timedelta(hours=12)  # the staff queue shows try-ons requested this long ago at most
_ATTEMPTS = 3
TICKETS_KEPT = timedelta(days=2)  # a day's queue counter outlives the day in every zone
TRYON_ID = re.compile(TRYON_ID_PATTERN)


def record_scan(store: FunnelStore, place: TagPlace, now: datetime) -> None:
    """Count a scan. The page matters more than the count: a throttled write is logged, not fatal."""
    try:
        store.count(place.slug, place.sku.sku, place.popup.id, FunnelStep.SCAN, place.day(now))
    except Unavailable as error:
        logger.warning("scan not counted", extra={"drop": place.slug, "popup": place.popup.id, "error": str(error)})
        return
    telemetry.funnel_step(place.slug, place.popup.id, FunnelStep.SCAN)


# --- try-on requests -----------------------------------------------------------------------------


class TryOnRequest(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    qr_token: Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH)]
    scan: Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH)]  # the tag page's scan claim
    size: SizeLabel


class StaffAction(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["call", "complete", "cancel"]


def new_tryon_id(now: datetime) -> str:
    """Milliseconds then randomness, in hex: ids sort in the order try-ons were asked for."""
    return f"{int(now.timestamp() * 1000):011x}{secrets.token_hex(3)}"


def checked_tryon_id(tryon_id: str) -> str:
    if not TRYON_ID.match(tryon_id):
        raise NotFound("There is no such try-on.", code="tryon_not_found")
    return tryon_id


def _open_for_tryons(place: TagPlace, now: datetime) -> None:
    popup, drop = place.popup, place.catalog.drop
    if popup.has_ended(now):
        raise Conflict("This pop-up has closed. The drop is still online.", code="popup_ended")
    if not popup.is_open(now):
        raise Conflict("This pop-up is not open yet.", code="popup_closed")
    if not drop.starts_at <= now < drop.ends_at:
        raise Conflict("This drop is not on sale right now.", code="drop_not_live")


def request_tryon(
    store: TryOnStore,
    holds: Holds,
    catalog: Catalog,
    visitor_id: str,
    request: TryOnRequest,
    now: datetime,
    admitted: Callable[[Drop], None] = lambda drop: None,
) -> dict[str, Any]:
    """Hold one unit of the size at the tag's pop-up for the visitor, and say where they are in line.

    403 ``scan_required`` without this visitor's recent scan of the tag; ``admitted(drop)`` refuses
    a visitor the drop's waiting room has not let in yet (429 ``in_queue``); 409 ``out_of_stock`` when
    none is free there, ``kept_for_buyers`` when the only ones left are kept for bookings,
    ``tryon_limit`` when the visitor already holds as many try-ons as the pop-up allows."""
    try:
        tag = read_tag(request.qr_token)
    except NotFound:
        raise Unprocessable("That QR tag is not valid.", code="invalid_tag") from None
    place = locate(catalog, tag)
    if request.size not in place.sku.sizes:
        raise Unprocessable(f"{place.sku.sku} does not come in size {request.size}.", code="unknown_size")
    _open_for_tryons(place, now)
    check_scan(request.scan, tag, visitor_id)
    admitted(place.catalog.drop)
    rules = place.popup.tryon
    expires = epoch_seconds(now + timedelta(minutes=rules.hold_minutes))
    now_epoch, released = epoch_seconds(now), False
    ticket = store.next_ticket(place.popup.id, place.day(now), epoch_seconds(now + TICKETS_KEPT))
    for _ in range(_ATTEMPTS):
        free = free_places(store.visitor_places(visitor_id), "s", rules.per_visitor, now_epoch)
        if not free:
            raise Conflict(
                f"You can hold {rules.per_visitor} try-ons at once. Finish or cancel one first.",
                code="tryon_limit",
                details={"limit": rules.per_visitor},
            )
        tryon = TryOn(
            tryon_id=new_tryon_id(now),
            drop=place.slug,
            generation=place.catalog.drop.generation,
            sku=place.sku.sku,
            size=request.size,
            popup=place.popup.id,
            timezone=place.popup.timezone,
            visitor=visitor_id,
            place=free[0],
            state=TryOnState.WAITING,
            requested_at=iso(now),
            hold_expires_at=expires,
            ticket=ticket,
        )
        try:
            claim = TryOnClaim(tryon, place.day(now), rules.keep_for_buyers, place.catalog.drop.stock_shards)
            tryon = store.request(claim, now_epoch)
        except PlaceTaken:
            continue  # the visitor asked twice at once: read their places again
        except OutOfStock as short:
            shortage = short.shortages[0]
            if not released and shortage.releasable:
                holds.release_expired(tryon.ref, now)  # expired holds sat on the unit: free them, try once more
                released = True
                continue
            if shortage.available >= 1:
                raise Conflict(
                    "The last pieces in this size are kept for buyers: book a pickup to get one.",
                    code="kept_for_buyers",
                    details={"kept": rules.keep_for_buyers},
                ) from None
            raise
        telemetry.funnel_step(place.slug, place.popup.id, FunnelStep.TRYON_REQUESTED)
        return {**tryon_summary(tryon, now), "position": queue_position(store, place.popup.id, tryon.tryon_id, now)}
    raise Conflict("Too many try-on requests at once; please try again.", code="tryon_limit")


def queue_position(store: TryOnStore, popup: str, tryon_id: str, now: datetime) -> int:
    """1 + the live try-ons at the pop-up that were asked for earlier and are still waiting."""
    now_epoch = epoch_seconds(now)
    entries = store.queue(popup, new_tryon_id(now - QUEUE_WINDOW)[:11])
    return 1 + sum(
        1
        for entry in entries
        if entry.tryon_id < tryon_id and entry.state is TryOnState.WAITING and entry.is_live(now_epoch)
    )


def tryon_summary(tryon: TryOn, now: datetime) -> dict[str, Any]:
    """A try-on as the APIs show it. ``expired``: still open, but its hold has lapsed."""
    summary: dict[str, Any] = {
        "tryon_id": tryon.tryon_id,
        "state": tryon.state.value,
        "expired": tryon.state in OPEN_STATES and not tryon.is_live(epoch_seconds(now)),
        "popup": tryon.popup,
        "sku": tryon.sku,
        "size": tryon.size,
        "requested_at": tryon.requested_at,
        "hold_expires_at": iso(datetime.fromtimestamp(tryon.hold_expires_at, tz=now.tzinfo)),
        "ticket": tryon.ticket,
    }
    if tryon.booking is not None:
        summary["booking"] = tryon.booking
    if tryon.sale_id is not None:
        summary["sale_id"] = tryon.sale_id
    return summary


# --- the staff queue -----------------------------------------------------------------------------


def staff_queue(store: TryOnStore, catalog: Catalog, popup: str, now: datetime) -> dict[str, Any]:
    """The pop-up's open try-ons, oldest first, with each waiting one's place in line."""
    location = catalog.location(popup)
    now_epoch = epoch_seconds(now)
    entries = [e for e in store.queue(popup, new_tryon_id(now - QUEUE_WINDOW)[:11]) if e.state in OPEN_STATES]
    names = {sku.sku: sku for drop in catalog.drops_at(popup) for sku in drop.skus}
    listed, waiting = [], 0
    for entry in entries:
        summary = tryon_summary(entry, now)
        if entry.state is TryOnState.WAITING and entry.is_live(now_epoch):
            waiting += 1
            summary["position"] = waiting
        sku = names.get(entry.sku)
        summary["name"] = localized(sku.name, "en", "en") if sku else entry.sku
        listed.append(summary)
    return {"popup": popup, "timezone": location.timezone, "tryons": listed}


_MOVES: dict[str, tuple[TryOnState, tuple[TryOnState, ...]]] = {
    "complete": (TryOnState.COMPLETED, OPEN_STATES),
    "cancel": (TryOnState.CANCELLED, OPEN_STATES),
}


def staff_act(
    store: TryOnStore, holds: Holds, catalog: Catalog, popup: str, tryon_id: str, action: str, now: datetime
) -> dict[str, Any]:
    """Staff call a shopper (which keeps the garment for the fitting), or finish or cancel their
    try-on (which gives the unit back)."""
    record = store.tryon(checked_tryon_id(tryon_id))
    if record is None or record.popup != popup:
        raise NotFound("There is no such try-on at this pop-up.", code="tryon_not_found")
    if action == "call":
        return _call(store, record, catalog.location(popup).tryon, now)
    return _move(store, holds, record, action, now)


def _call(store: TryOnStore, tryon: TryOn, rules: TryOnRules, now: datetime) -> dict[str, Any]:
    """Move a waiting try-on to called and keep its unit ``called_minutes`` from now, once: a called
    try-on is never extended again, so no hold outlives a scan by more than the two spans."""
    expired = Conflict("This try-on's hold has expired; the garment is back on the rail.", code="tryon_expired")
    if tryon.state is TryOnState.WAITING:
        if not tryon.is_live(epoch_seconds(now)):
            raise expired
        until = max(tryon.hold_expires_at, epoch_seconds(now + timedelta(minutes=rules.called_minutes)))
        if store.call(tryon, until, iso(now)):
            called = replace(tryon, state=TryOnState.CALLED, hold_expires_at=until)
            return {**tryon_summary(called, now), "changed": True}
        tryon = store.tryon(tryon.tryon_id) or tryon  # lost to another call, a cancel or an expiry
    if tryon.state is TryOnState.CALLED:
        return {**tryon_summary(tryon, now), "changed": False}
    if tryon.state is TryOnState.WAITING:
        raise expired  # still waiting, so the call failed on the hold: an expiry released it
    raise Conflict(f"This try-on is {tryon.state}, so it cannot be called.", code="tryon_closed")


def cancel_own_tryon(store: TryOnStore, holds: Holds, visitor_id: str, tryon_id: str, now: datetime) -> dict[str, Any]:
    """The shopper cancels their own try-on (their visitor cookie must be the one that asked)."""
    record = store.tryon(checked_tryon_id(tryon_id))
    if record is None or record.visitor != visitor_id:
        raise NotFound("There is no such try-on.", code="tryon_not_found")
    return _move(store, holds, record, "cancel", now)


def _move(store: TryOnStore, holds: Holds, tryon: TryOn, action: str, now: datetime) -> dict[str, Any]:
    """Complete or cancel a try-on and give its unit and the visitor's place back."""
    to, from_states = _MOVES[action]
    counted = (tryon.drop, tryon.sku, tryon.popup, local_day(tryon.timezone, now))
    changed = tryon.state is not to and store.move(tryon.tryon_id, to, from_states, iso(now), counted)
    # Only a move that lost (or was not tried) needs to see what the try-on is now.
    current = replace(tryon, state=to) if changed else store.tryon(tryon.tryon_id) or tryon
    if current.state is not to:
        raise Conflict(f"This try-on is {current.state}, so it cannot be moved to {to}.", code="tryon_closed")
    # Also on a repeat: if the first call stopped after its move, this one gives the unit back.
    holds.release_hold(tryon.ref, tryon.tryon_id)
    store.free_place(tryon.visitor, tryon.place, tryon.tryon_id)
    if changed and to is TryOnState.COMPLETED:
        telemetry.funnel_step(tryon.drop, tryon.popup, FunnelStep.TRYON_COMPLETED)
    return {**tryon_summary(current, now), "changed": changed}


# --- what a try-on led to ------------------------------------------------------------------------


def tryon_units(
    store: TryOnStore, tryon_id: str, visitor_id: str, slug: str, popup: str, lines: tuple[Line, ...], now: datetime
) -> HeldUnits | None:
    """The unit a booking can take from the visitor's try-on: theirs, still open and held, at the
    booking's pop-up, for one of its lines. None otherwise (the booking then takes from stock)."""
    tryon = store.tryon(tryon_id) if TRYON_ID.match(tryon_id) else None
    if tryon is None or tryon.visitor != visitor_id or not tryon.is_live(epoch_seconds(now)):
        return None
    if (tryon.drop, tryon.popup) != (slug, popup) or not any(
        (line.sku, line.size) == (tryon.sku, tryon.size) for line in lines
    ):
        return None
    return HeldUnits(tryon.tryon_id, "tryon", visitor_id, (Line(tryon.sku, tryon.size, 1),), (tryon.shard,))


def after_tryon_booking(
    store: TryOnStore, tryon_id: str, code: str, converted: bool, visitor_id: str, now: datetime
) -> None:
    """A booking followed a try-on. If it took the try-on's unit, the try-on is already complete and
    linked (same transaction): give the visitor's try-on place back. Otherwise link it for the funnel."""
    if not converted:
        link_outcome(store, tryon_id, FunnelStep.BOOKED_AFTER_TRYON, code, now, visitor_id)
        return
    tryon = store.tryon(tryon_id)
    if tryon is not None:
        store.free_place(tryon.visitor, tryon.place, tryon.tryon_id)
        telemetry.funnel_step(tryon.drop, tryon.popup, FunnelStep.TRYON_COMPLETED)
        telemetry.funnel_step(tryon.drop, tryon.popup, FunnelStep.BOOKED_AFTER_TRYON)


def link_outcome(
    store: TryOnStore, tryon_id: str, step: FunnelStep, value: str, now: datetime, visitor: str | None = None
) -> bool:
    """Link a try-on to the booking or till sale that followed it (each try-on once), for the funnel.
    A booking must come from the try-on's own visitor; a till sale is vouched for by the till."""
    tryon = store.tryon(tryon_id) if TRYON_ID.match(tryon_id) else None
    if tryon is None or (visitor is not None and tryon.visitor != visitor):
        return False
    outcome: Outcome = "booking" if step is FunnelStep.BOOKED_AFTER_TRYON else "sale_id"
    if getattr(tryon, outcome) is not None:
        return False
    if not store.link(tryon, outcome, value, step, local_day(tryon.timezone, now)):
        return False
    telemetry.funnel_step(tryon.drop, tryon.popup, step)
    return True
