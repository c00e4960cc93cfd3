"""Pop-up tills: signed, revocable till tokens; sales applied exactly once; door-counter footfall.

Tills work offline and sync later, out of order, sometimes twice. Each sale is applied by one
conditional update on its stock item that also records its ``sale_id``, so a sale counts once
however often it arrives, and one that would take stock below zero is rejected, not forced.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from pydantic import ConfigDict, Field

from chalicelib.catalog.reader import Catalog
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Forbidden, Unauthorized
from chalicelib.core.model import Model
from chalicelib.core.models import (
    Count,
    DropCatalog,
    EmailAddress,
    Location,
    MinorUnits,
    SentTime,
    SizeLabel,
    Sku,
    SkuCode,
    Slug,
    TryOnId,
    iso,
    local_day,
)
from chalicelib.core.tokens import InvalidToken, Purpose, sign, verify
from chalicelib.customers.ports import Sighting
from chalicelib.i18n.formatting import major_units
from chalicelib.pricing.counters import FULL_PRICE, TILL, PlaceDay, SoldLine, till_sale_counts
from chalicelib.pricing.engine import PricingInputs, lowest_price
from chalicelib.pricing.experiments import assign
from chalicelib.shop.storefront import popup_currency
from chalicelib.stock.limits import customer_key
from chalicelib.stock.ports import StockRef
from chalicelib.tills.ports import FootfallReading, SaleApplier, TillStore
from chalicelib.tryon.ports import FunnelStep, TryOnStore
from chalicelib.tryon.tryons import link_outcome

CLOCK_SKEW = timedelta(minutes=5)
SaleId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class Sale(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sale_id: SaleId
    sku: SkuCode
    size: SizeLabel
    qty: Annotated[Count, Field(ge=1, le=100)]
    price_minor: Annotated[MinorUnits, Field(le=100_000_000)]
    sold_at: SentTime
    tryon_id: TryOnId | None = None  # the try-on it followed
    override_reason: Annotated[str, Field(min_length=3, max_length=200)] | None = None
    """Why staff sold below the lowest price the guardrail admits (recorded in the audit log)."""
    email: EmailAddress | None = None  # the receipt's, when the shopper asked for one: a customer seen here


class SalesBatch(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    popup: Slug
    sales: tuple[Sale, ...] = Field(min_length=1, max_length=200)


class Reading(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: SentTime
    entered: Annotated[Count, Field(ge=0, le=100_000)]


class FootfallBatch(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    popup: Slug
    counts: tuple[Reading, ...] = Field(min_length=1, max_length=500)


# --- till tokens ---------------------------------------------------------------------------------


def issue_till_token(store: TillStore, popup: str, now: datetime) -> str:
    token_id = uuid.uuid4().hex
    store.put_till(token_id, popup, iso(now))
    return sign(Purpose.TILL, {"p": popup, "i": token_id})


def revoke_till_token(store: TillStore, token_id: str, now: datetime) -> None:
    store.revoke_till(token_id, iso(now))


def till_popup(store: TillStore, token: str) -> str:
    """The pop-up a valid, unrevoked till token belongs to; ``Unauthorized`` otherwise."""
    try:
        claim = verify(Purpose.TILL, token)
    except InvalidToken:
        raise Unauthorized("That till token is not valid or has expired.", code="invalid_token") from None
    if not isinstance(claim, dict) or not isinstance(claim.get("i"), str) or not isinstance(claim.get("p"), str):
        raise Unauthorized("That till token is not valid.", code="invalid_token")
    record = store.till(claim["i"])
    if record is None or record.revoked_at or record.popup != claim["p"]:
        raise Unauthorized("That till token has been revoked.", code="revoked_token")
    return str(claim["p"])


class TillBatch(Protocol):
    @property
    def popup(self) -> str: ...


def for_till[Batch: TillBatch](popup: str, batch: Batch) -> Batch:
    """The batch, if it is for the pop-up the till works at (``till_popup``); ``Forbidden`` if not."""
    if batch.popup != popup:
        raise Forbidden(f"This till belongs to {popup}, not {batch.popup}.", code="wrong_popup")
    return batch


# --- sales ---------------------------------------------------------------------------------------


@dataclass
class SalesReport:
    applied: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)  # applied sales that followed a try-on


def apply_sales(
    catalog: Catalog,
    stock: SaleApplier,
    batch: SalesBatch,
    now: datetime,
    tryons: TryOnStore,
    customer_seen: Callable[[Sighting], None] = lambda sighting: None,
) -> SalesReport:
    """Apply each sale once. Unknown items, sales from the future and sales stock can't cover are
    rejected with a reason; the rest of the batch still applies. A sale that names the try-on it
    followed is linked to it for the funnel; one whose receipt went to an email is ``customer_seen`` as that
    customer's purchase at the pop-up (once: a resent sale is a duplicate)."""
    location = catalog.location(batch.popup)
    drops = {sku.sku: (c.drop, sku) for c in catalog.drops_at(batch.popup) for sku in c.skus}
    report, seen = SalesReport(), set()
    for sale in batch.sales:
        if sale.sale_id in seen:  # the same sale twice in one batch (on two SKUs, say) counts once
            report.duplicates.append(sale.sale_id)
            continue
        seen.add(sale.sale_id)
        found = drops.get(sale.sku)
        if found is None or sale.size not in found[1].sizes:
            report.rejected.append({"sale_id": sale.sale_id, "code": "unknown_item"})
            continue
        if sale.sold_at > now + CLOCK_SKEW:
            report.rejected.append({"sale_id": sale.sale_id, "code": "sold_in_future"})
            continue
        if sale.sold_at < found[0].starts_at:
            report.rejected.append({"sale_id": sale.sale_id, "code": "drop_not_live"})
            continue
        lowest = till_floor(catalog, found[0].slug, found[1], location, now)
        audit = None
        if sale.price_minor < lowest:
            if sale.override_reason is None:
                report.rejected.append({"sale_id": sale.sale_id, "code": "below_guardrail", "lowest": str(lowest)})
                continue
            sold_in = catalog.drop(found[0].slug)
            audit = AuditEntry(
                found[0].slug,
                f"till at {batch.popup}",
                "till_override",
                f"sold {sale.qty} × {sale.sku} {sale.size} at {_money(sale.price_minor, sold_in, location)} "
                f"(lowest the guardrail admits: {_money(lowest, sold_in, location)}), sale {sale.sale_id}: "
                f"{sale.override_reason}",
                iso(now),
            )
        ref = StockRef(found[0].slug, found[0].generation, sale.sku, sale.size, batch.popup)
        numbers = sale_numbers(catalog, found[0].slug, found[1], location, sale, tryons)
        outcome = stock.apply_till_sale(
            ref,
            sale.sale_id,
            sale.qty,
            sale.price_minor,
            sale.sold_at,
            location.timezone,
            audit,
            numbers,
            found[0].stock_shards,
        )
        if outcome == "applied":
            report.applied.append(sale.sale_id)
            if sale.email:
                customer_seen(
                    Sighting(customer_key(sale.email), found[0].slug, batch.popup, iso(sale.sold_at), purchase=True)
                )
            if sale.tryon_id and link_outcome(tryons, sale.tryon_id, FunnelStep.SOLD_AFTER_TRYON, sale.sale_id, now):
                report.linked.append(sale.sale_id)
        elif outcome == "duplicate":
            report.duplicates.append(sale.sale_id)
        else:
            report.rejected.append({"sale_id": sale.sale_id, "code": outcome})
    return report


def sale_numbers(
    catalog: Catalog, slug: str, sku: Sku, popup: Location, sale: Sale, tryons: TryOnStore
) -> dict[str, int]:
    """What a till sale adds to the studio's numbers: its line in the ``till`` cohort (or
    ``full-price`` at list price), in the pop-up's currency; and a sale in each experiment cell
    of the shopper whose try-on it followed (the cell their visitor id hashes into)."""
    currency = popup_currency(catalog.drop(slug), popup)
    list_minor = sku.list_prices.get(currency, sale.price_minor)
    line = SoldLine(
        cohort=TILL if sale.price_minor < list_minor else FULL_PRICE,
        qty=sale.qty,
        list_minor=list_minor,
        paid_minor=sale.price_minor * sale.qty,
        cost_minor=sku.costs.get(currency, 0),
    )
    cells: tuple[str, ...] = ()
    tryon = tryons.tryon(sale.tryon_id) if sale.tryon_id else None
    policy = catalog.policy(slug).policy
    if tryon is not None and tryon.popup == popup.id and policy is not None:
        cells = tuple(a.label for a in assign(tryon.visitor, policy.experiments))
    return till_sale_counts(line, currency, cells, PlaceDay(popup.id, local_day(popup.timezone, sale.sold_at)))


def _money(minor: int, drop: DropCatalog, popup: Location) -> str:
    """An amount in the pop-up's market currency, as the audit log shows it: "15.00 EUR"."""
    currency = popup_currency(drop, popup)
    return f"{major_units(minor, currency)} {currency}"


def till_floor(catalog: Catalog, slug: str, sku: Sku, popup: Location, now: datetime) -> int:
    """The lowest unit price the drop's guardrail admits for ``sku`` at ``popup`` now (in its
    market's currency): overrides, depth caps and the margin floor, whatever the rules would offer.
    Without a policy (none set, or unreadable) only the list price is, as for offer tokens."""
    drop = catalog.drop(slug)
    currency = popup_currency(drop, popup)
    list_minor = sku.list_prices.get(currency, 0)
    read = catalog.policy(slug)
    if read.policy is None:
        return list_minor
    inputs = PricingInputs(
        sku=sku.sku,
        currency=currency,
        list_minor=list_minor,
        cost_minor=sku.costs.get(currency, list_minor),
        segments=(),
        cell=None,
        cell_discount_bps=0,
        hours_since_start=0,
        sell_through_bps=0,
        budgets_left=(),
        now=now,
    )
    return lowest_price(inputs, read.policy)


def record_footfall(catalog: Catalog, store: TillStore, batch: FootfallBatch) -> dict[str, int]:
    """Record each door-counter reading once (a resent reading, or one twice in the batch, is a
    duplicate), in as few writes as the store can make."""
    location = catalog.location(batch.popup)
    readings: dict[str, FootfallReading] = {}
    for reading in batch.counts:
        at = iso(reading.at.astimezone(UTC))
        readings.setdefault(at, FootfallReading(at, reading.entered, local_day(location.timezone, reading.at)))
    recorded = store.add_footfall(batch.popup, list(readings.values()))
    return {"recorded": recorded, "duplicates": len(batch.counts) - recorded}
