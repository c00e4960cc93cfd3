"""QR try-on at a pop-up: the tag a garment wears, the page it opens, try-on requests that hold a unit,
the staff queue, and the funnel from a scan to a sale.

A tag's token binds a pop-up, a SKU and optionally a size, and nothing else (no price: prices are
worked out for the visitor on every request). A try-on holds one unit at that pop-up for the time the
pop-up sets; finishing or cancelling it gives the unit back, and so does its expiry.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chalicelib import telemetry
from chalicelib.catalog import Catalog
from chalicelib.errors import Conflict, NotFound, Unavailable, Unprocessable
from chalicelib.funnel import OPEN_STATES, TRYON_ID_PATTERN, FunnelStep, TryOnState
from chalicelib.inventory import OutOfStock, StockRef, epoch_seconds, local_day
from chalicelib.models import SKU_PATTERN, SLUG_PATTERN, DropCatalog, Location, SizeLabel, Sku, iso, localized
from chalicelib.store.tryons import PlaceTaken, TryOnClaim
from chalicelib.telemetry import logger
from chalicelib.tokens import InvalidToken, Purpose, sign, verify

MAX_TOKEN_LENGTH = 256
QUEUE_WINDOW = timedelta(hours=12)  # the staff queue shows try-ons requested this long ago at most
_ATTEMPTS = 3
TRYON_ID = re.compile(TRYON_ID_PATTERN)
_SLUG, _SKU = re.compile(SLUG_PATTERN), re.compile(SKU_PATTERN)


# --- tags ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tag:
    popup: str
    sku: str
    size: str | None = None


def tag_token(tag: Tag) -> str:
    """The signed token a printed tag carries: ``popup#sku(#size)``, compact to keep the QR small."""
    return sign(Purpose.QR, [tag.popup, tag.sku] + ([tag.size] if tag.size else []))


def read_tag(token: str) -> Tag:
    """The tag a token was signed for; ``NotFound`` for anything else (tampered, expired, another
    purpose's token, or a shape we never sign)."""
    not_ours = NotFound("This tag is not one we know. Ask a member of staff for help.", code="tag_not_found")
    if len(token) > MAX_TOKEN_LENGTH:
        raise not_ours
    try:
        claim = verify(Purpose.QR, token)
    except InvalidToken:
        raise not_ours from None
    if not isinstance(claim, list) or not 2 <= len(claim) <= 3 or not all(isinstance(part, str) for part in claim):
        raise not_ours
    popup, sku, *size = claim
    if not _SLUG.match(popup) or not _SKU.match(sku):
        raise not_ours
    return Tag(popup, sku, size[0] if size else None)


def tag_url(base_url: str, tag: Tag) -> str:
    return f"{base_url}/t/{tag_token(tag)}"


@dataclass(frozen=True)
class TagPlace:
    """Where a tag hangs: the drop and SKU it is for, at which pop-up."""

    catalog: DropCatalog
    sku: Sku
    popup: Location
    size: str | None  # the tag's size, if it is one of the SKU's

    @property
    def slug(self) -> str:
        return self.catalog.drop.slug

    def day(self, now: datetime) -> date:
        return local_day(self.popup.timezone, now)


def locate(catalog: Catalog, tag: Tag) -> TagPlace:
    """The drop at the tag's pop-up that sells its SKU; ``NotFound`` if none does any more."""
    for drop_catalog in catalog.drops_at(tag.popup):
        sku = next((s for s in drop_catalog.skus if s.sku == tag.sku), None)
        popup = next((loc for loc in drop_catalog.locations if loc.id == tag.popup and loc.kind == "popup"), None)
        if sku is not None and popup is not None:
            return TagPlace(drop_catalog, sku, popup, tag.size if tag.size in sku.sizes else None)
    raise NotFound("This garment is not on sale here any more.", code="tag_not_found")


class FunnelStore(Protocol):
    def count(self, slug: str, sku: str, popup: str, step: FunnelStep, day: date) -> None: ...


def record_scan(store: FunnelStore, place: TagPlace, now: datetime) -> None:
    """Count a scan. The page matters more than the count: a throttled write is logged, not fatal."""
    try:
        store.count(place.slug, place.sku.sku, place.popup.id, FunnelStep.SCAN, place.day(now))
    except Unavailable as error:
        logger.warning("scan not counted", extra={"drop": place.slug, "popup": place.popup.id, "error": str(error)})
        return
    telemetry.funnel_step(place.slug, place.popup.id, FunnelStep.SCAN)


# --- try-on requests -----------------------------------------------------------------------------


class TryOnRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    qr_token: Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH)]
    size: SizeLabel


class StaffAction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["call", "complete", "cancel"]


class TryOnStore(FunnelStore, Protocol):
    def tryon(self, tryon_id: str) -> dict[str, Any] | None: ...

    def visitor_places(self, visitor_id: str) -> dict[str, dict[str, Any]]: ...

    def queue(self, popup: str, since_id: str) -> list[dict[str, Any]]: ...

    def request(self, claim: TryOnClaim, now_epoch: int) -> None: ...

    def move(
        self,
        tryon_id: str,
        to: TryOnState,
        from_states: tuple[TryOnState, ...],
        at_iso: str,
        counted: tuple[str, str, str, date] | None = None,
    ) -> bool: ...

    def free_place(self, visitor_id: str, place: str, tryon_id: str) -> bool: ...

    def link(self, record: dict[str, Any], field: str, value: str, step: FunnelStep, day: date) -> bool: ...


class Holds(Protocol):
    def release_expired(self, ref: StockRef, now: datetime) -> int: ...

    def release_hold(self, ref: StockRef, hold_id: str) -> bool: ...


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
    store: TryOnStore, holds: Holds, catalog: Catalog, visitor_id: str, request: TryOnRequest, now: datetime
) -> dict[str, Any]:
    """Hold one unit of the size at the tag's pop-up for the visitor, and say where they are in line.

    409 ``out_of_stock`` when none is free there, ``tryon_limit`` when the visitor already holds as
    many try-ons as the pop-up allows."""
    try:
        tag = read_tag(request.qr_token)
    except NotFound:
        raise Unprocessable("That QR tag is not valid.", code="invalid_tag") from None
    place = locate(catalog, tag)
    if request.size not in place.sku.sizes:
        raise Unprocessable(f"{place.sku.sku} does not come in size {request.size}.", code="unknown_size")
    _open_for_tryons(place, now)
    rules = place.popup.tryon
    ref = StockRef(place.slug, place.sku.sku, request.size, place.popup.id)
    expires = epoch_seconds(now + timedelta(minutes=rules.hold_minutes))
    now_epoch, released = epoch_seconds(now), False
    for _ in range(_ATTEMPTS):
        places = store.visitor_places(visitor_id)
        free = [f"s{i}" for i in range(rules.per_visitor) if places.get(f"s{i}", {}).get("exp", 0) <= now_epoch]
        if not free:
            raise Conflict(
                f"You can hold {rules.per_visitor} try-ons at once. Finish or cancel one first.",
                code="tryon_limit",
                details={"limit": rules.per_visitor},
            )
        tryon_id = new_tryon_id(now)
        record = {
            "tryon_id": tryon_id,
            "drop": place.slug,
            "sku": place.sku.sku,
            "size": request.size,
            "popup": place.popup.id,
            "timezone": place.popup.timezone,
            "visitor": visitor_id,
            "place": free[0],
            "state": TryOnState.WAITING.value,
            "requested_at": iso(now),
            "hold_expires_at": expires,
        }
        try:
            store.request(TryOnClaim(record, ref, free[0], place.day(now)), now_epoch)
        except PlaceTaken:
            continue  # the visitor asked twice at once: read their places again
        except OutOfStock as short:
            if released or not short.shortages[0].releasable:
                raise
            holds.release_expired(ref, now)  # expired holds sat on the unit: free them, try once more
            released = True
            continue
        telemetry.funnel_step(place.slug, place.popup.id, FunnelStep.TRYON_REQUESTED)
        return {**tryon_summary(record, now), "position": queue_position(store, place.popup.id, tryon_id, now)}
    raise Conflict("Too many try-on requests at once; please try again.", code="tryon_limit")


def _live(record: dict[str, Any], now_epoch: int) -> bool:
    return record["state"] in OPEN_STATES and record["hold_expires_at"] > now_epoch


def queue_position(store: TryOnStore, popup: str, tryon_id: str, now: datetime) -> int:
    """1 + the live try-ons at the pop-up that were asked for earlier and are still waiting."""
    now_epoch = epoch_seconds(now)
    entries = store.queue(popup, new_tryon_id(now - QUEUE_WINDOW)[:11])
    return 1 + sum(
        1
        for entry in entries
        if entry["tryon_id"] < tryon_id and entry["state"] == TryOnState.WAITING and _live(entry, now_epoch)
    )


def tryon_summary(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A try-on as the APIs show it. ``expired``: still open, but its hold has lapsed."""
    expired = record["state"] in OPEN_STATES and record["hold_expires_at"] <= epoch_seconds(now)
    summary = {
        "tryon_id": record["tryon_id"],
        "state": record["state"],
        "expired": expired,
        "popup": record["popup"],
        "sku": record["sku"],
        "size": record["size"],
        "requested_at": record["requested_at"],
        "hold_expires_at": iso(datetime.fromtimestamp(record["hold_expires_at"], tz=now.tzinfo)),
    }
    for linked in ("booking", "sale_id"):
        if linked in record:
            summary[linked] = record[linked]
    return summary


# --- the staff queue -----------------------------------------------------------------------------


def staff_queue(store: TryOnStore, catalog: Catalog, popup: str, now: datetime) -> dict[str, Any]:
    """The pop-up's open try-ons, oldest first, with each waiting one's place in line."""
    location = catalog.location(popup)
    now_epoch = epoch_seconds(now)
    entries = [e for e in store.queue(popup, new_tryon_id(now - QUEUE_WINDOW)[:11]) if e["state"] in OPEN_STATES]
    names = {sku.sku: sku for drop in catalog.drops_at(popup) for sku in drop.skus}
    listed, waiting = [], 0
    for entry in entries:
        summary = tryon_summary(entry, now)
        if entry["state"] == TryOnState.WAITING and _live(entry, now_epoch):
            waiting += 1
            summary["position"] = waiting
        sku = names.get(entry["sku"])
        summary["name"] = localized(sku.name, "en", "en") if sku else entry["sku"]
        listed.append(summary)
    return {"popup": popup, "timezone": location.timezone, "tryons": listed}


_MOVES: dict[str, tuple[TryOnState, tuple[TryOnState, ...]]] = {
    "call": (TryOnState.CALLED, (TryOnState.WAITING,)),
    "complete": (TryOnState.COMPLETED, OPEN_STATES),
    "cancel": (TryOnState.CANCELLED, OPEN_STATES),
}


def staff_act(store: TryOnStore, holds: Holds, popup: str, tryon_id: str, action: str, now: datetime) -> dict[str, Any]:
    """Staff call a shopper, or finish or cancel their try-on (which gives the unit back)."""
    record = store.tryon(checked_tryon_id(tryon_id))
    if record is None or record["popup"] != popup:
        raise NotFound("There is no such try-on at this pop-up.", code="tryon_not_found")
    if action == "call" and not _live(record, epoch_seconds(now)) and record["state"] == TryOnState.WAITING:
        raise Conflict("This try-on's hold has expired; the garment is back on the rail.", code="tryon_expired")
    return _move(store, holds, record, action, now)


def cancel_own_tryon(store: TryOnStore, holds: Holds, visitor_id: str, tryon_id: str, now: datetime) -> dict[str, Any]:
    """The shopper cancels their own try-on (their visitor cookie must be the one that asked)."""
    record = store.tryon(checked_tryon_id(tryon_id))
    if record is None or record["visitor"] != visitor_id:
        raise NotFound("There is no such try-on.", code="tryon_not_found")
    return _move(store, holds, record, "cancel", now)


def _move(store: TryOnStore, holds: Holds, record: dict[str, Any], action: str, now: datetime) -> dict[str, Any]:
    to, from_states = _MOVES[action]
    tryon_id = record["tryon_id"]
    counted = (record["drop"], record["sku"], record["popup"], local_day(record["timezone"], now))
    changed = record["state"] != to and store.move(tryon_id, to, from_states, iso(now), counted)
    # Only a move that lost (or was not tried) needs to see what the try-on is now.
    current = {**record, "state": to.value} if changed else store.tryon(tryon_id) or record
    if current["state"] != to:
        raise Conflict(f"This try-on is {current['state']}, so it cannot be moved to {to}.", code="tryon_closed")
    if to is not TryOnState.CALLED:
        # Also on a repeat: if the first call stopped after its move, this one gives the unit back.
        holds.release_hold(StockRef(record["drop"], record["sku"], record["size"], record["popup"]), tryon_id)
        store.free_place(record["visitor"], record["place"], tryon_id)
    if changed and to is TryOnState.COMPLETED:
        telemetry.funnel_step(record["drop"], record["popup"], FunnelStep.TRYON_COMPLETED)
    return {**tryon_summary(current, now), "changed": changed}


# --- what a try-on led to ------------------------------------------------------------------------


def link_outcome(
    store: TryOnStore, tryon_id: str, step: FunnelStep, value: str, now: datetime, visitor: str | None = None
) -> bool:
    """Link a try-on to the booking or till sale that followed it (each try-on once), for the funnel.
    A booking must come from the try-on's own visitor; a till sale is vouched for by the till."""
    record = store.tryon(tryon_id) if TRYON_ID.match(tryon_id) else None
    if record is None or (visitor is not None and record["visitor"] != visitor):
        return False
    field = "booking" if step is FunnelStep.BOOKED_AFTER_TRYON else "sale_id"
    if field in record or not store.link(record, field, value, step, local_day(record["timezone"], now)):
        return False
    telemetry.funnel_step(record["drop"], record["popup"], step)
    return True
