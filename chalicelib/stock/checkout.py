"""Checkout holds: a shopper sets pieces aside at a pop-up for a few minutes while they choose a
pickup slot and give their name; booking converts the held units, letting go gives them back.

A hold belongs to the visitor whose cookie placed it: only they can see it, book it or release it.
Each visitor has a few hold places (a setting), so one phone cannot sit on a whole size.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ConfigDict, Field

from chalicelib.catalog.reader import Catalog
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import HOLD_ID_PATTERN, DropCatalog, HoldId, Line, Location, Slug, epoch_seconds, iso
from chalicelib.shop.quotes import QuoteLine, basket_lines
from chalicelib.stock.ports import (
    CheckoutHold,
    CheckoutHoldStore,
    CustomerLimit,
    HeldUnits,
    HoldGone,
    HoldState,
    OutOfStock,
    PlaceTaken,
    StockRef,
    free_places,
)

_ATTEMPTS = 3
HOLD_ID = re.compile(HOLD_ID_PATTERN)


class HoldRequest(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    drop: Slug
    popup: Slug
    items: tuple[QuoteLine, ...] = Field(min_length=1, max_length=20)
    add_to: HoldId | None = None  # the visitor's live hold at this pop-up these pieces join (a basket)


@dataclass(frozen=True, slots=True)
class HoldRules:
    minutes: float  # how long a hold sets its units aside
    per_visitor: int  # how many live holds one visitor may have at once


def new_hold_id(now: datetime) -> str:
    """``h``, then milliseconds and randomness in hex: ids sort in the order holds were placed."""
    return f"h{int(now.timestamp() * 1000):011x}{secrets.token_hex(3)}"


def pickup_popup(drop: DropCatalog, popup_id: str) -> Location:
    """The drop's pop-up where pieces can be picked up; ``Unprocessable`` for anything else."""
    for location in drop.locations:
        if location.id == popup_id and location.kind == "popup":
            if location.pickup is None:
                raise Unprocessable(f"{popup_id} does not offer pickup.", code="no_pickup")
            return location
    raise Unprocessable(f"{popup_id} is not a pop-up of this drop.", code="unknown_popup")


def _known(drop: DropCatalog, lines: tuple[Line, ...]) -> None:
    sizes = {sku.sku: sku.sizes for sku in drop.skus}
    for line in lines:
        if line.size not in sizes.get(line.sku, ()):
            raise Unprocessable(
                f"{line.sku} {line.size} is not part of this drop.",
                code="unknown_item",
                details={"sku": line.sku, "size": line.size},
            )


def place_hold(
    store: CheckoutHoldStore, catalog: Catalog, visitor_id: str, request: HoldRequest, rules: HoldRules, now: datetime
) -> CheckoutHold:
    """Set the lines aside at the pop-up for the visitor, all or none. 409 ``out_of_stock`` when a
    line is short there, ``hold_limit`` when the visitor already has as many holds as allowed,
    ``customer_limit`` when a size's pieces in the hold pass what one customer may book,
    ``drop_not_live`` outside the drop's sale."""
    drop_catalog = catalog.drop(request.drop)
    drop = drop_catalog.drop
    if not drop.starts_at <= now < drop.ends_at:
        raise Conflict("This drop is not on sale right now.", code="drop_not_live")
    popup = pickup_popup(drop_catalog, request.popup)
    lines = basket_lines(request.items)
    _known(drop_catalog, lines)
    limit = _units_per_customer(catalog, drop.slug)
    if request.add_to is not None:
        old = own_hold(store, visitor_id, request.add_to, drop.slug)
        return _grow(store, old, popup, lines, limit, now, drop.stock_shards)
    _within(limit, lines)
    now_epoch, released = epoch_seconds(now), False
    expires = epoch_seconds(now + timedelta(minutes=rules.minutes))
    for _ in range(_ATTEMPTS):
        free = free_places(store.visitor_hold_places(visitor_id), "h", rules.per_visitor, now_epoch)
        if not free:
            raise Conflict(
                f"You can hold pieces {rules.per_visitor} times at once. Book or let go of one first.",
                code="hold_limit",
                details={"limit": rules.per_visitor},
            )
        hold = CheckoutHold(
            hold_id=new_hold_id(now),
            drop=drop.slug,
            generation=drop.generation,
            popup=popup.id,
            visitor=visitor_id,
            lines=lines,
            place=free[0],
            state=HoldState.HELD,
            created_at=iso(now),
            expires_at=expires,
        )
        try:
            return store.place_checkout_hold(hold, now_epoch, drop.stock_shards)
        except PlaceTaken:
            continue  # the visitor asked twice at once: read their places again
        except OutOfStock as short:
            if released or not any(s.releasable for s in short.shortages):
                raise
            for s in short.shortages:  # expired holds sat on the units: free them, try once more
                if s.releasable:
                    store.release_expired(StockRef(drop.slug, drop.generation, s.sku, s.size, popup.id), now)
            released = True
    raise Conflict("Too many holds asked for at once; please try again.", code="hold_limit")


def _units_per_customer(catalog: Catalog, slug: str) -> int:
    policy = catalog.policy(slug).policy
    return policy.guardrail.max_units_per_customer if policy else 0


def _within(limit: int, lines: tuple[Line, ...]) -> None:
    """Refuse a hold no booking could take: more of a size than one customer may book (0: no limit).
    Earlier bookings count only once the booking names its customer."""
    over = next((line for line in lines if limit and line.qty > limit), None)
    if over is not None:
        raise CustomerLimit(limit, over.sku, over.size)


def _grow(
    store: CheckoutHoldStore,
    old: CheckoutHold,
    popup: Location,
    lines: tuple[Line, ...],
    limit: int,
    now: datetime,
    shards: int,
) -> CheckoutHold:
    """The visitor's hold with ``lines`` added: one hold, one pop-up, the first hold's expiry (adding
    a piece never buys more time); a piece already held grows on its stock shard, a new one takes
    one of the drop's ``shards``."""
    if old.popup != popup.id:
        raise Unprocessable("Your held pieces are at another pop-up: book them there first.", code="hold_mismatch")
    if not old.is_live(epoch_seconds(now)):
        raise HoldGone(old.hold_id)
    merged = basket_lines(QuoteLine(sku=line.sku, size=line.size, qty=line.qty) for line in (*old.lines, *lines))
    _within(limit, merged)
    grown = CheckoutHold(
        hold_id=new_hold_id(now),
        drop=old.drop,
        generation=old.generation,
        popup=old.popup,
        visitor=old.visitor,
        lines=merged,
        place=old.place,
        state=HoldState.HELD,
        created_at=iso(now),
        expires_at=old.expires_at,
    )
    return store.grow_checkout_hold(old, grown, epoch_seconds(now), shards)


def own_hold(store: CheckoutHoldStore, visitor_id: str, hold_id: str, slug: str | None = None) -> CheckoutHold:
    """The visitor's own hold (in drop ``slug``, if given); 404 for an id that is malformed, unknown,
    someone else's or another drop's."""
    hold = store.checkout_hold(hold_id) if _is_hold_id(hold_id) else None
    if hold is None or hold.visitor != visitor_id or slug not in (None, hold.drop):
        raise NotFound("There is no such hold.", code="hold_not_found")
    return hold


def held_units(
    store: CheckoutHoldStore, visitor_id: str, hold_id: str, slug: str, popup: str, now: datetime
) -> HeldUnits:
    """What a booking converts from the visitor's live hold; 409 ``hold_expired`` once it has lapsed
    or was let go, ``hold_booked`` if a booking already took it."""
    hold = own_hold(store, visitor_id, hold_id)
    if (hold.drop, hold.popup) != (slug, popup):
        raise Unprocessable("That hold is for another drop or pop-up.", code="hold_mismatch")
    if hold.state is HoldState.BOOKED:
        raise Conflict("These pieces are already booked.", code="hold_booked", details={"booking": hold.booking})
    if not hold.is_live(epoch_seconds(now)):
        raise HoldGone(hold.hold_id)
    return HeldUnits(hold.hold_id, "hold", visitor_id, hold.lines, hold.line_shards)


def release_own_hold(
    store: CheckoutHoldStore, visitor_id: str, hold: str | CheckoutHold, now: datetime
) -> dict[str, Any]:
    """The shopper lets go of their hold (its id, or the hold as read): its units go back on sale,
    exactly once."""
    hold = own_hold(store, visitor_id, hold) if isinstance(hold, str) else hold
    if hold.state is HoldState.BOOKED:
        raise Conflict("These pieces are booked: cancel the booking instead.", code="hold_booked")
    changed = hold.state is HoldState.HELD and store.end_checkout_hold(hold, iso(now))
    # Also on a repeat: if the first call stopped after its state change, this one gives the units back.
    for line in hold.lines:
        store.release_hold(hold.ref(line), hold.hold_id)
    store.free_hold_place(hold.visitor, hold.place, hold.hold_id)
    current = store.checkout_hold(hold.hold_id) or hold
    return {**hold_summary(current, now), "changed": changed}


def after_booking(store: CheckoutHoldStore, hold_id: str) -> None:
    """A booking converted the hold: give the visitor's place back now rather than at its expiry."""
    hold = store.checkout_hold(hold_id)
    if hold is not None:
        store.free_hold_place(hold.visitor, hold.place, hold.hold_id)


def hold_summary(hold: CheckoutHold, now: datetime) -> dict[str, Any]:
    """A hold as the API shows it. ``state`` is ``expired`` once a held hold's time has run out."""
    lapsed = hold.state is HoldState.HELD and not hold.is_live(epoch_seconds(now))
    summary: dict[str, Any] = {
        "hold_id": hold.hold_id,
        "state": "expired" if lapsed else hold.state.value,
        "drop": hold.drop,
        "popup": hold.popup,
        "expires_at": iso(datetime.fromtimestamp(hold.expires_at, tz=now.tzinfo)),
        "items": [{"sku": line.sku, "size": line.size, "qty": line.qty} for line in hold.lines],
    }
    if hold.booking is not None:
        summary["booking"] = hold.booking
    return summary


def _is_hold_id(value: str) -> bool:
    return HOLD_ID.match(value) is not None
