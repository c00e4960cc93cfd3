"""Fair shares: who a customer is, and the limits a drop's policy sets on what one customer books.

A customer is their email, normalized the way a scalper's variants collapse (case, a ``+tag``, and
Gmail's dots), then hashed: the ledger needs to recognize an address, not to read it. The counts
live on the customer's and on the visitor's ledger items, taken in the booking's own transaction
(``BookingStore.book``); here is only who the customer is and what the policy allows."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from chalicelib.pricing.policy import PricingPolicy
from chalicelib.stock.ports import BookingLimits

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalized_email(email: str) -> str:
    local, _, domain = email.strip().casefold().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def customer_key(email: str) -> str:
    return hashlib.sha256(normalized_email(email).encode()).hexdigest()[:32]


def booking_limits(policy: PricingPolicy | None, budgets: Mapping[str, int]) -> BookingLimits:
    """The limits a booking must stay within under ``policy``: its customer's, and the ``budgets`` of
    the counters it charges (``pricing.budgets.charges``)."""
    if policy is None:
        return BookingLimits()
    guardrail = policy.guardrail
    return BookingLimits(budgets, guardrail.max_units_per_customer, guardrail.max_discounted_units_per_visitor)
