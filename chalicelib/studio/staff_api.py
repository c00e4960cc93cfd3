"""The studio's JSON API for a pop-up's staff (``/studio/api/popups/{popup}``): the try-on queue,
today's and tomorrow's pickups, a pickup found by its code, and the till tokens; the same actions as
the staff page (call, done, cancel; picked up, no-show; issue, revoke), through the same functions.
Needs the staff role; a session's writes carry its CSRF token in ``X-CSRF-Token``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import ConfigDict
from starlette.requests import Request
from starlette.responses import Response

from chalicelib import wiring
from chalicelib.core.errors import NotFound
from chalicelib.core.model import Model
from chalicelib.stock.pickup import checked_code, mark_pickup
from chalicelib.studio.auth import check_csrf
from chalicelib.studio.staff_views import PICKUP_MARKS, look_up, staff_of, todays_pickups
from chalicelib.studio.web import json_answer
from chalicelib.tills.sales import issue_till_token, revoke_till_token
from chalicelib.tryon.tryons import staff_act, staff_queue
from chalicelib.web.request import parse_body

MAX_BODY = 1024


class TryOnAction(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["call", "complete", "cancel"]


class PickupMark(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Literal["picked_up", "no_show"]


def _writing(request: Request) -> str:
    principal, popup = staff_of(request)
    check_csrf(principal, request.headers.get("x-csrf-token"))
    return popup


async def popup_board(request: Request) -> Response:
    """``{zone, tryons, pickups, tills}``: what the staff page shows, as JSON."""
    _, popup = staff_of(request)
    now = wiring.utcnow()
    queue = staff_queue(wiring.tryons(), wiring.catalog(), popup, now)
    return json_answer(
        {
            "zone": queue["timezone"],
            "tryons": queue["tryons"],
            "pickups": todays_pickups(popup, queue["timezone"], now),
            "tills": [asdict(till) for till in wiring.tills().tills(popup)],
        }
    )


async def act_on_tryon(request: Request) -> Response:
    """``{action: call|complete|cancel}``: the try-on after it."""
    popup = _writing(request)
    body = parse_body(await request.body(), TryOnAction, MAX_BODY)
    tryon = staff_act(
        wiring.tryons(),
        wiring.stock(),
        wiring.catalog(),
        popup,
        request.path_params["id"],
        body.action,
        wiring.utcnow(),
    )
    return json_answer(tryon)


async def find_pickup(request: Request) -> Response:
    """The booking a code names (typed loosely), if it is for this pop-up; 404 otherwise."""
    _, popup = staff_of(request)
    found = look_up(popup, request.path_params["code"])
    if found.booking is None:
        raise NotFound(found.problem, code="booking_not_found")
    return json_answer(found.booking)


async def mark(request: Request) -> Response:
    """``{state: picked_up|no_show}``: the booking after it."""
    popup = _writing(request)
    body = parse_body(await request.body(), PickupMark, MAX_BODY)
    code = checked_code(request.path_params["code"])
    return json_answer(mark_pickup(wiring.bookings(), code, popup, PICKUP_MARKS[body.state], wiring.utcnow()))


async def issue_till(request: Request) -> Response:
    """201 ``{token}``: a new till token, shown on this answer only."""
    popup = _writing(request)
    return json_answer({"token": issue_till_token(wiring.tills(), popup, wiring.utcnow())}, status=201)


async def revoke_till(request: Request) -> Response:
    """The till token stops working now: its record after."""
    popup = _writing(request)
    store = wiring.tills()
    till = store.till(request.path_params["id"][:64])
    if till is None or till.popup != popup:
        raise NotFound("There is no such till token at this pop-up.", code="till_not_found")
    revoke_till_token(store, till.id, wiring.utcnow())
    revoked = store.till(till.id)
    return json_answer(asdict(revoked) if revoked else None)
