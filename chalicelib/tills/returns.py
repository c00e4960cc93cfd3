"""Returns and exchanges at a pop-up's till: each return applied once, an exchange in the same write.

A shopper brings back a piece bought at the till or picked up after booking; the till sends the
return when it syncs (late, out of order, sometimes twice). A return puts the piece back on the
stock shard it came from, counts against what that sale or booking sold (never more back than
went out), and, for an exchange, hands out the other size in the same transaction. The studio's
numbers count returns within 30 days of the sale by SKU, packaging variant and pop-up, and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Protocol

from pydantic import ConfigDict, Field, model_validator

from chalicelib.catalog.reader import Catalog
from chalicelib.core.model import Model
from chalicelib.core.models import Count, Drop, SentTime, SizeLabel, Sku, SkuCode, Slug
from chalicelib.stock.pickup import BOOKING_CODE
from chalicelib.stock.ports import Booking, BookingState
from chalicelib.tills.ports import ReturnClaim, ReturnReason, ReturnStore, SoldPiece
from chalicelib.tills.sales import CLOCK_SKEW, SaleId

BookingCode = Annotated[str, Field(pattern=BOOKING_CODE.pattern)]
RETURN_WINDOW = timedelta(days=30)
"""Returns within this long of the sale count toward the return rate (the playbook's measure)."""


class Exchange(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: SkuCode
    size: SizeLabel


class ReturnLine(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    return_id: SaleId
    sale_id: SaleId | None = None  # the till sale it came from, or
    booking_code: BookingCode | None = None  # the booking picked up
    sku: SkuCode
    size: SizeLabel
    qty: Annotated[Count, Field(ge=1, le=100)]
    reason: ReturnReason
    exchange: Exchange | None = None  # the piece handed out instead, of the same drop
    returned_at: SentTime

    @model_validator(mode="after")
    def _one_origin(self) -> ReturnLine:
        if (self.sale_id is None) == (self.booking_code is None):
            raise ValueError("name the sale_id or the booking_code the piece was bought with, one of them")
        return self


class ReturnsBatch(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    popup: Slug
    returns: tuple[ReturnLine, ...] = Field(min_length=1, max_length=200)


@dataclass
class ReturnsReport:
    applied: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)


class BookingReader(Protocol):
    def booking(self, code: str) -> Booking | None: ...


def apply_returns(
    catalog: Catalog, store: ReturnStore, bookings: BookingReader, batch: ReturnsBatch, now: datetime
) -> ReturnsReport:
    """Apply each return once; the ones that cannot be are rejected with a reason, the rest of the
    batch still applies."""
    location = catalog.location(batch.popup)
    drops = {sku.sku: (c.drop, sku) for c in catalog.drops_at(batch.popup) for sku in c.skus}
    report, seen = ReturnsReport(), set()
    for line in batch.returns:
        if line.return_id in seen:
            report.duplicates.append(line.return_id)
            continue
        seen.add(line.return_id)
        code = _refusal(line, drops, now)
        piece = None
        if code is None:
            drop, sku = drops[line.sku]
            if line.sale_id is not None:
                piece = store.till_sale(drop.slug, drop.generation, line.sale_id, batch.popup)
                piece = piece and replace(piece, packaging=sku.packaging)  # the till hands it over as the SKU is packed
            else:
                booking = bookings.booking(str(line.booking_code))
                piece = _booked(booking, drop.slug, line.sku, line.size)
                if piece is None and booking is not None and booking.state is not BookingState.PICKED_UP:
                    code = "not_picked_up"  # a booking not collected yet is cancelled, not returned
            code = code or _unreturnable(line, piece)
        if code is not None or piece is None:
            report.rejected.append({"return_id": line.return_id, "code": code or "unknown_sale"})
            continue
        claim = ReturnClaim(
            return_id=line.return_id,
            piece=piece,
            qty=line.qty,
            reason=line.reason,
            returned_at=line.returned_at,
            zone=location.timezone,
            exchange=(line.exchange.sku, line.exchange.size) if line.exchange else None,
            within_30_days=line.returned_at - piece.sold_at <= RETURN_WINDOW,
        )
        outcome = store.apply_return(claim, drops[line.sku][0].stock_shards)
        if outcome == "applied":
            report.applied.append(line.return_id)
        elif outcome == "duplicate":
            report.duplicates.append(line.return_id)
        else:
            report.rejected.append({"return_id": line.return_id, "code": outcome})
    return report


def _refusal(line: ReturnLine, drops: dict[str, tuple[Drop, Sku]], now: datetime) -> str | None:
    """Why a return cannot apply whatever it names: its time, or pieces this pop-up does not sell."""
    if line.returned_at > now + CLOCK_SKEW:
        return "returned_in_future"
    named = [(line.sku, line.size)] + ([(line.exchange.sku, line.exchange.size)] if line.exchange else [])
    for sku, size in named:
        found = drops.get(sku)
        if found is None or size not in found[1].sizes:
            return "unknown_item"
    if line.exchange and drops[line.exchange.sku][0] is not drops[line.sku][0]:
        return "unknown_item"  # an exchange stays within the drop
    return None


def _booked(booking: Booking | None, slug: str, sku: str, size: str) -> SoldPiece | None:
    """The booking's units of the size, if it was picked up (for the drop)."""
    item = next((i for i in booking.items if (i.sku, i.size) == (sku, size)), None) if booking else None
    if booking is None or item is None or booking.drop != slug:
        return None
    if booking.state is not BookingState.PICKED_UP:
        return None
    return SoldPiece(
        slug=booking.drop,
        generation=booking.generation,
        sku=sku,
        size=size,
        location=booking.popup,
        units=item.qty,
        sold_at=datetime.fromisoformat(booking.left_at or booking.booked_at),
        parts=((item.shard, item.qty),),
        packaging=item.packaging,
        origin=("booking", booking.code),
    )


def _unreturnable(line: ReturnLine, piece: SoldPiece | None) -> str | None:
    if piece is None:
        return "unknown_sale"
    if (piece.sku, piece.size) != (line.sku, line.size):
        return "not_in_sale"
    if line.qty > piece.units:
        return "over_returned"
    return None
