"""Which held units a booking takes: the visitor's checkout hold, or the unit their try-on holds.

It sits above both (a try-on is a kind of hold; a checkout hold is the stock's own), so the booking
flow stays ignorant of try-ons and the route only names the stores.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core.models import Line
from chalicelib.stock.checkout import after_booking, held_units
from chalicelib.stock.pickup import Answer, PickupRequest
from chalicelib.stock.ports import CheckoutHoldStore, HeldUnits
from chalicelib.tryon.ports import TryOnStore
from chalicelib.tryon.tryons import after_tryon_booking, tryon_units

Holding = Callable[[tuple[Line, ...]], HeldUnits | None]


def held_for(
    holds: CheckoutHoldStore, tryons: TryOnStore, order: PickupRequest, visitor_id: str, now: datetime
) -> Holding:
    """What the booking of ``order`` converts, asked once it is known not to be a replay."""

    def holding(lines: tuple[Line, ...]) -> HeldUnits | None:
        if order.hold_id is not None:
            return held_units(holds, visitor_id, order.hold_id, order.drop, order.popup, now)
        if order.tryon_id is not None:
            return tryon_units(tryons, order.tryon_id, visitor_id, order.drop, order.popup, lines, now)
        return None

    return holding


def settle_held(
    holds: CheckoutHoldStore,
    tryons: TryOnStore,
    order: PickupRequest,
    visitor_id: str,
    answer: Answer,
    now: datetime,
) -> None:
    """After a new booking: free the visitor's hold or try-on place, or link the try-on it followed."""
    if order.hold_id is not None and answer.converted:
        after_booking(holds, order.hold_id)
    elif order.tryon_id is not None:
        after_tryon_booking(tryons, order.tryon_id, answer.body["code"], answer.converted, visitor_id, now)
