"""Quotes: priced lines and a total for a basket. Prices come from the server, never the client.

A line is priced from a valid offer token made for this visitor, SKU and currency, not yet expired,
and still admitted by the guardrail (the policy may have changed since); otherwise it is priced
afresh. Discounted units per visitor are capped by the guardrail; units beyond the cap are at list
price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from chalicelib.core.errors import Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import Count, Line, SizeLabel, SkuCode, Slug, iso, merge_lines
from chalicelib.core.tokens import InvalidToken, Purpose, verify
from chalicelib.shop.shopper import ShopperDrop

MAX_LINE_QTY = 10
"""The most units of one SKU and size in one basket line, and in one booking once its lines merge."""


class QuoteLine(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)  # a client's price fields are dropped here

    sku: SkuCode
    size: SizeLabel
    qty: Annotated[Count, Field(ge=1, le=MAX_LINE_QTY)]


class QuoteRequest(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    drop: Slug
    items: tuple[QuoteLine, ...] = Field(min_length=1, max_length=20)
    offer_tokens: tuple[Annotated[str, Field(max_length=512)], ...] = Field(default=(), max_length=20)


def basket_lines(items: Iterable[QuoteLine]) -> tuple[Line, ...]:
    """A basket's lines, one per SKU and size: twenty lines of one size merge into one, and the cap
    holds for what is merged (``Unprocessable`` ``line_quantity``)."""
    lines = merge_lines(Line(item.sku, item.size, item.qty) for item in items)
    over = [line for line in lines if line.qty > MAX_LINE_QTY]
    if over:
        raise Unprocessable(
            f"A booking can take at most {MAX_LINE_QTY} of one size.",
            code="line_quantity",
            details=[{"sku": line.sku, "size": line.size, "qty": line.qty} for line in over],
        )
    return lines


@dataclass(frozen=True)
class PricedLine:
    sku: str
    size: str
    qty: int
    list_minor: int
    unit_minor: int
    discounted_units: int
    line_minor: int
    decision_id: str
    source: str  # "offer_token" or "priced"
    budget_rule: str | None = None  # the budgeted rule the discount is charged to, if any

    @property
    def granted_minor(self) -> int:
        """The discount this line grants, in minor units."""
        return (self.list_minor - self.unit_minor) * self.discounted_units


def _token_prices(tokens: Iterable[str], visitor_id: str, currency: str) -> dict[str, tuple[int, str]]:
    """SKU → (price, decision) from the tokens that are valid for this visitor and currency."""
    prices: dict[str, tuple[int, str]] = {}
    for token in tokens:
        try:
            claim = verify(Purpose.OFFER, token)
        except InvalidToken:
            continue
        if not isinstance(claim, dict) or claim.get("v") != visitor_id or claim.get("c") != currency:
            continue
        if isinstance(claim.get("s"), str) and isinstance(claim.get("p"), int) and isinstance(claim.get("d"), str):
            prices[claim["s"]] = (claim["p"], claim["d"])
    return prices


def price_lines(
    shopper: ShopperDrop, lines: Iterable[Line], offer_tokens: Iterable[str], discounted_before: int = 0
) -> list[PricedLine]:
    """Each line priced by the server: from a valid offer token that the guardrail still admits, or
    afresh; discounted only for units within the customer's cap, after the ``discounted_before``
    their earlier bookings had. ``Unprocessable`` for a SKU or size the drop does not have."""
    view, pricer = shopper.view, shopper.pricer
    skus = {product.sku.sku: product for product in view.products}
    from_tokens = _token_prices(offer_tokens, shopper.visitor.id, pricer.currency)
    cap = pricer.policy.guardrail.max_discounted_units_per_visitor if pricer.policy else 0
    discounted_left = max(cap - discounted_before, 0)
    priced = []
    for line in lines:
        product = skus.get(line.sku)
        if product is None or line.size not in product.sku.sizes:
            raise Unprocessable(
                f"{line.sku} {line.size} is not part of this drop.",
                code="unknown_item",
                details={"sku": line.sku, "size": line.size},
            )
        list_minor = product.offer.list_minor
        token = from_tokens.get(line.sku)
        if token is not None and pricer.admits(product.sku, token[0]):
            unit, decision_id, source = token[0], token[1], "offer_token"
        else:
            unit, decision_id, source = product.offer.price_minor, product.offer.decision_id, "priced"
        discounted = min(line.qty, discounted_left) if unit < list_minor else 0
        discounted_left -= discounted
        total = discounted * unit + (line.qty - discounted) * list_minor
        charged = pricer.budget_rule(line.sku, unit) if discounted else None
        priced.append(
            PricedLine(
                line.sku,
                line.size,
                line.qty,
                list_minor,
                unit,
                discounted,
                total,
                decision_id,
                source,
                charged,
            )
        )
    return priced


def quote(shopper: ShopperDrop, request: QuoteRequest) -> dict[str, Any]:
    lines = price_lines(shopper, (Line(i.sku, i.size, i.qty) for i in request.items), request.offer_tokens)
    return {
        "drop": request.drop,
        "currency": shopper.pricer.currency,
        "lines": [line.__dict__ for line in lines],
        "total_minor": sum(line.line_minor for line in lines),
        "priced_at": iso(shopper.view.now),
    }
