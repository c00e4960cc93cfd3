"""The pop-up staff page: the try-on queue (call, done, cancel), today's and tomorrow's pickups
(picked up, no-show) and the pop-up's till tokens (issue, revoke). Needs the staff role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from chalicelib import wiring
from chalicelib.core.errors import NotFound, Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import iso
from chalicelib.stock.pickup import booking_summary, checked_code, mark_pickup
from chalicelib.stock.ports import Booking, BookingState
from chalicelib.stock.slots import local_instant
from chalicelib.studio.auth import Principal, Role
from chalicelib.studio.web import FlashKey, checked_form, done, flash_of, page, principal_of
from chalicelib.tills.sales import issue_till_token, revoke_till_token
from chalicelib.tryon.tryons import staff_act, staff_queue
from chalicelib.web.request import parse_query

PICKUP_MARKS = {"picked_up": BookingState.PICKED_UP, "no_show": BookingState.NO_SHOW}
TRYON_ACTIONS = ("call", "complete", "cancel")
TRYON_DONE: dict[str, FlashKey] = {"call": "called", "complete": "completed", "cancel": "cancelled"}
STATE_WORDS = {
    "waiting": "waiting",
    "called": "called to try on",
    "booked": "to collect",
    "picked_up": "picked up",
    "no_show": "no-show",
    "cancelled": "cancelled",
}


def staff_of(request: Request) -> tuple[Principal, str]:
    """Who is asking (with the staff role) and for which pop-up (one a published drop uses)."""
    principal = principal_of(request)
    principal.require(Role.STAFF)
    popup = request.path_params["popup"]
    wiring.catalog().location(popup)  # NotFound for a pop-up no published drop uses
    return principal, popup


def _today_and_tomorrow(zone: str, now: datetime) -> tuple[str, str]:
    """Today and tomorrow, local to the pop-up, as an ISO UTC range."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    return iso(local_instant(today, time(0), tz)), iso(local_instant(today + timedelta(days=2), time(0), tz))


def _popup_page(
    principal: Principal,
    popup: str,
    new_till: str | None = None,
    flash: str | None = None,
    lookup: Lookup | None = None,
) -> Response:
    now = wiring.utcnow()
    queue = staff_queue(wiring.tryons(), wiring.catalog(), popup, now)
    zone = ZoneInfo(queue["timezone"])
    for tryon in queue["tryons"]:
        tryon["until"] = datetime.fromisoformat(tryon["hold_expires_at"]).astimezone(zone).strftime("%H:%M")
    pickups = todays_pickups(popup, queue["timezone"], now)
    return page(
        "popup.html",
        principal=principal,
        popup=popup,
        queue=queue["tryons"],
        pickups=pickups,
        tills=wiring.tills().tills(popup),
        new_till=new_till,
        zone=queue["timezone"],
        flash=flash,
        lookup=lookup,
        states=STATE_WORDS,
    )


def todays_pickups(popup: str, zone: str, now: datetime) -> list[dict[str, Any]]:
    """Today's and tomorrow's bookings at the pop-up, as the pickups table shows them."""
    first, last = _today_and_tomorrow(zone, now)
    return [_pickup(b) for b in wiring.bookings().popup_bookings(popup, first, last)]


class LookupQuery(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str = Field(default="", max_length=40)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a pickup code typed or scanned at the counter found: the booking (as the pickups table
    shows it) if it is for this pop-up, otherwise why not."""

    code: str
    booking: dict[str, Any] | None = None
    problem: str = ""


def _pickup(booking: Booking) -> dict[str, Any]:
    return {
        **booking_summary(booking),
        "name": booking.contact.name,
        "news_by_email": booking.contact.marketing_consent,
    }


def look_up(popup: str, typed: str) -> Lookup:
    """The booking a code names, forgiving case, spaces and dashes."""
    try:
        code = checked_code(typed)
    except NotFound:
        return Lookup(typed, problem="That is not a booking code: codes have 8 letters and digits.")
    booking = wiring.bookings().booking(code)
    if booking is None:
        return Lookup(code, problem=f"No booking has the code {code}.")
    if booking.popup != popup:
        return Lookup(code, problem=f"Booking {code} is for pick-up at {booking.popup}, not here.")
    return Lookup(code, _pickup(booking))


async def popup_page(request: Request) -> Response:
    """``?code=``: also find that booking, whatever its day."""
    principal, popup = staff_of(request)
    query = parse_query(request.query_params, LookupQuery)
    lookup = look_up(popup, query.code) if query.code.strip() else None
    return _popup_page(principal, popup, flash=flash_of(request), lookup=lookup)


async def act_on_tryon(request: Request) -> Response:
    principal, popup = staff_of(request)
    form = await checked_form(request, principal)
    if form.get("action") not in TRYON_ACTIONS:
        raise Unprocessable("Choose call, complete or cancel.", code="invalid_action")
    staff_act(
        wiring.tryons(),
        wiring.stock(),
        wiring.catalog(),
        popup,
        request.path_params["id"],
        form["action"],
        wiring.utcnow(),
    )
    return done(f"/studio/popups/{popup}", TRYON_DONE[form["action"]])


async def mark_booking(request: Request) -> Response:
    principal, popup = staff_of(request)
    form = await checked_form(request, principal)
    state = PICKUP_MARKS.get(form.get("state", ""))
    if state is None:
        raise Unprocessable("Choose picked up or no-show.", code="invalid_state")
    mark_pickup(wiring.bookings(), checked_code(request.path_params["code"]), popup, state, wiring.utcnow())
    return done(f"/studio/popups/{popup}", "picked-up" if state is BookingState.PICKED_UP else "no-show")


async def change_tills(request: Request) -> Response:
    """Issue a till token (shown once, on this answer only) or revoke one of this pop-up's."""
    principal, popup = staff_of(request)
    form = await checked_form(request, principal)
    store, now = wiring.tills(), wiring.utcnow()
    if form.get("action") == "issue":
        return _popup_page(principal, popup, new_till=issue_till_token(store, popup, now))
    till = store.till(form.get("id", "")[:64]) if form.get("action") == "revoke" else None
    if till is None or till.popup != popup:
        raise NotFound("There is no such till token at this pop-up.", code="till_not_found")
    revoke_till_token(store, form["id"], now)
    return done(f"/studio/popups/{popup}", "till-revoked")
