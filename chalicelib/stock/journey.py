"""The reserve journey as plain HTML forms, so it works without JavaScript: a product card's form
places a checkout hold, the hold's page takes a slot and a name, and booking converts the hold.

The forms carry the visitor's form token (``shop.visitors.form_token``) and are checked for their
origin at the edge; prices, as everywhere, come from the server.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError

from chalicelib.core.errors import Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import HoldId, Line, SizeLabel, SkuCode, Slug
from chalicelib.shop.quotes import MAX_LINE_QTY, QuoteLine
from chalicelib.shop.shopper import ShopperDrop
from chalicelib.stock.checkout import HoldRequest, after_booking, held_units, release_own_hold
from chalicelib.stock.pickup import Answer, PickupRequest, book_pickup
from chalicelib.stock.ports import (
    BookingStore,
    CheckoutHold,
    CheckoutHoldStore,
    CustomerLimit,
    HeldUnits,
    SlotFull,
)

FormText = Annotated[str, Field(max_length=512)]


class ReserveFields(Model):
    """A product card's form: one size of one SKU at one pop-up."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ft: FormText = ""
    sku: SkuCode
    size: SizeLabel
    popup: Slug
    qty: Annotated[int, Field(ge=1, le=MAX_LINE_QTY)] = 1  # a form sends text: "2" is 2 here
    add_to: HoldId | None = None  # the visitor's hold this piece joins ("add another piece")

    def hold_request(self, slug: str) -> HoldRequest:
        line = QuoteLine(sku=self.sku, size=self.size, qty=self.qty)
        return HoldRequest(drop=slug, popup=self.popup, items=(line,), add_to=self.add_to)


class BookingFields(Model):
    """The hold page's form, as typed (checked field by field when it becomes a booking request)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ft: FormText = ""
    slot: FormText = ""
    name: FormText = ""
    email: FormText = ""
    consent: FormText = ""  # "yes" when the shopper agreed to hear from the brand


FIELD_OF = {"slot_start": "slot", "contact.name": "name", "contact.email": "email"}
"""Where a booking request's problem shows on the form."""


@dataclass(frozen=True)
class FormProblems(Exception):
    """The fields the shopper needs to fix, each with its problem's code (the page words it)."""

    fields: dict[str, str]


def booking_request(hold: CheckoutHold, fields: BookingFields) -> PickupRequest:
    """The booking the hold page's form asks for: the hold's lines at its pop-up, converted from it."""
    body: dict[str, Any] = {
        "drop": hold.drop,
        "popup": hold.popup,
        "slot_start": fields.slot,
        "items": [{"sku": line.sku, "size": line.size, "qty": line.qty} for line in hold.lines],
        "contact": {"name": fields.name, "email": fields.email, "marketing_consent": fields.consent == "yes"},
        "hold_id": hold.hold_id,
    }
    try:
        return PickupRequest.model_validate(body)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for issue in error.errors():
            field = FIELD_OF.get(".".join(str(part) for part in issue["loc"]), "form")
            problems.setdefault(field, "missing" if not body_value(body, field) else "invalid")
        raise FormProblems(problems) from None


def body_value(body: dict[str, Any], field: str) -> str:
    if field == "slot":
        return str(body["slot_start"]).strip()
    return str(body["contact"].get(field, "")).strip()


SLOT_REFUSALS = frozenset({"not_a_slot", "slot_in_past"})


def book_hold(
    bookings: BookingStore,
    holds: CheckoutHoldStore,
    shopper: ShopperDrop,
    hold: CheckoutHold,
    fields: BookingFields,
    now: datetime,
) -> Answer:
    """Book the hold as the form asks: its units convert in the booking's transaction. A slot taken
    meanwhile or a field to fix is ``FormProblems`` (the page shows it beside the field)."""
    order = booking_request(hold, fields)

    def holding(_: tuple[Line, ...]) -> HeldUnits:
        return held_units(holds, hold.visitor, hold.hold_id, hold.drop, hold.popup, now)

    try:
        answer = book_pickup(bookings, holds, shopper, order, form_key(hold, order), now, holding)
    except SlotFull:
        raise FormProblems({"slot": "invalid"}) from None
    except CustomerLimit:
        # This visitor can never book these pieces (the limit counts their cookie too): let them go
        # now, not when the hold runs out, so the next shopper can have them.
        release_own_hold(holds, hold.visitor, hold, now)
        raise
    except Unprocessable as refused:
        if refused.code in SLOT_REFUSALS:
            raise FormProblems({"slot": "invalid"}) from None
        raise
    if answer.converted:
        after_booking(holds, hold.hold_id)
    return answer


def form_key(hold: CheckoutHold, request: PickupRequest) -> str:
    """The booking's Idempotency-Key: a second tap on the same form books once; a form sent again
    with other details is a new request (and finds the hold already booked)."""
    digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:24]
    return f"form-{hold.hold_id}-{digest}"
