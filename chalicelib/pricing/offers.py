"""Offers for a visitor. For now every offer is the list price; segments, experiments and the
guardrail (the offers issue) fill in ``rules`` and ``discount_bps`` without changing the shape."""

from __future__ import annotations

from datetime import datetime

from chalicelib.models import Offer, Sku
from chalicelib.tokens import LIFETIMES, Purpose, sign

LIST_PRICE_RULE = "list_price"


class NotPricedInCurrency(LookupError):
    """The SKU has no list price in the market's currency, so it is not sold there."""


def offer_for(sku: Sku, currency: str, visitor_id: str, now: datetime, *, decision_id: str, with_token: bool) -> Offer:
    """The visitor's offer for ``sku`` in ``currency``; the token binds sku, price, visitor and decision."""
    try:
        list_minor = sku.list_prices[currency]
    except KeyError:
        raise NotPricedInCurrency(f"{sku.sku} has no {currency} price") from None
    token = None
    if with_token:
        token = sign(
            Purpose.OFFER,
            {"s": sku.sku, "p": list_minor, "c": currency, "v": visitor_id, "d": decision_id},
        )
    return Offer(
        currency=currency,
        list_minor=list_minor,
        price_minor=list_minor,
        discount_bps=0,
        rules=(LIST_PRICE_RULE,),
        decision_id=decision_id,
        offer_token=token,
        expires_at=now + LIFETIMES[Purpose.OFFER],
    )
