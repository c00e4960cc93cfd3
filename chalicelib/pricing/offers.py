"""Offers for one visitor on one request: each SKU's decision, its record, and its signed token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from chalicelib.core.models import Offer, Sku
from chalicelib.core.tokens import LIFETIMES, Purpose, sign
from chalicelib.pricing.budgets import BudgetScope, budgets_left
from chalicelib.pricing.engine import (
    Decision,
    PricingInputs,
    Terms,
    compact,
    decide,
    decide_with,
    fail_closed,
    lowest_price,
    shared_inputs,
    terms,
)
from chalicelib.pricing.experiments import Assignment
from chalicelib.pricing.logged import DecisionRow
from chalicelib.pricing.policy import Channel, PricingPolicy
from chalicelib.pricing.reference import reference_minor

PERSONAL_RULES = ("segment:", "cell:")
"""Rules that price by who is asking (a markdown prices everyone alike): such a price says so."""


class NotPricedInCurrency(LookupError):
    """The SKU has no list price in the market's currency, so it is not sold there."""


@dataclass
class Pricer:
    """Prices SKUs for one visitor. Inputs come from the server only: never a client's price or cell."""

    policy: PricingPolicy | None
    policy_failed: bool
    currency: str
    visitor_id: str
    segments: tuple[str, ...]
    cell: Assignment | None
    hours_since_start: int
    now: datetime
    view_id: str
    with_tokens: bool
    budget_scope: BudgetScope | None = None  # where and when a discount would be granted (None: no budgets)
    channel: Channel = "online"  # a cell's discount applies only in its channel
    location: str | None = None  # the pop-up the price is given at: its markdown stages apply
    footfall: int | None = None  # that pop-up's signals today, read when its stages ask for them
    till_units: int | None = None
    spent: Mapping[str, int] = field(default_factory=dict)  # budget counter → minor units granted (budgets)
    records: list[DecisionRow] = field(default_factory=list)  # per SKU (see engine.compact)
    shared: dict[str, Any] = field(default_factory=dict)  # the inputs all of this view's decisions share
    _priced: dict[str, PricingInputs] = field(default_factory=dict, init=False, repr=False)  # by offered SKU
    _terms: Terms | None = field(default=None, init=False, repr=False)  # what this view's decisions share

    @cached_property
    def _budgets_left(self) -> tuple[tuple[str, int], ...]:
        if self.policy is None or self.budget_scope is None:
            return ()
        return budgets_left(self.policy, self.currency, self.budget_scope, self.spent)

    @cached_property
    def _offers_expire_at(self) -> datetime:
        return self.now + LIFETIMES[Purpose.OFFER]

    @property
    def _cell_discount_bps(self) -> int:
        """The visitor's cell's discount, where this view's channel is the cell's."""
        if self.cell is None or self.cell.cell.channel not in ("any", self.channel):
            return 0
        return self.cell.cell.discount_bps

    def budget_rule(self, sku: str, price_minor: int) -> str | None:
        """The budgeted rule that ``price_minor`` for ``sku`` (offered in this view) draws on, if any:
        the visitor's budgeted rule when the price is below what the rules give without budgeted
        ones. An offer token's price is charged so even when its budget has run out since (the
        charge's condition then refuses it), so no token outlives its budget."""
        inputs = self._priced.get(sku)
        if self.policy is None or inputs is None:
            return None
        funding = [r.id for r in self.policy.segment_rules if r.budgeted and r.segment in self.segments]
        if not funding:
            return None
        unfunded = decide(inputs._replace(budgets_left=()), self.policy)  # every budgeted rule spent
        return funding[0] if price_minor < unfunded.price_minor else None

    def inputs(self, sku: Sku, sell_through_bps: int, sell_through_there_bps: int | None = None) -> PricingInputs:
        try:
            list_minor = sku.list_prices[self.currency]
        except KeyError:
            raise NotPricedInCurrency(f"{sku.sku} has no {self.currency} price") from None
        return PricingInputs(
            sku=sku.sku,
            currency=self.currency,
            list_minor=list_minor,
            cost_minor=sku.costs.get(self.currency, list_minor),  # no known cost: no room to discount
            segments=self.segments,
            cell=self.cell.label if self.cell else None,
            cell_discount_bps=self._cell_discount_bps,
            hours_since_start=self.hours_since_start,
            sell_through_bps=sell_through_bps,
            budgets_left=self._budgets_left,
            now=self.now,
            location=self.location,
            location_sell_through_bps=sell_through_there_bps if self.location else None,
            footfall=self.footfall,
            till_units=self.till_units,
        )

    def admits(self, sku: Sku, price_minor: int) -> bool:
        """Whether the guardrail, as it is now, allows selling ``sku`` at ``price_minor`` (a price an
        offer token carries from an earlier request). Without a readable policy only list price is."""
        inputs = self.inputs(sku, sell_through_bps=0)  # the guardrail's bounds don't depend on it
        if price_minor > inputs.list_minor:
            return False
        if self.policy is None:
            return price_minor == inputs.list_minor
        return price_minor >= lowest_price(inputs, self.policy)

    def offer(self, position: int, sku: Sku, sell_through_bps: int, sell_through_there_bps: int | None = None) -> Offer:
        """``sku``'s offer; ``sell_through_there_bps``: its sell-through at the pop-up priced at."""
        inputs = self.inputs(sku, sell_through_bps, sell_through_there_bps)
        self._priced[sku.sku] = inputs
        if self.policy is not None:
            if self._terms is None:
                self._terms = terms(inputs, self.policy)
            decision = decide_with(self._terms, inputs)
        elif self.policy_failed:
            decision = fail_closed(inputs)
        else:
            decision = Decision(inputs.list_minor, 0, ("list_price",), (), ())  # the drop has no policy
        decision_id = f"{self.view_id}-{position}"
        if not self.shared:
            self.shared = shared_inputs(inputs)
        self.records.append(compact(decision_id, inputs, decision))
        token = None
        if self.with_tokens:
            token = sign(
                Purpose.OFFER,
                {"s": sku.sku, "p": decision.price_minor, "c": self.currency, "v": self.visitor_id, "d": decision_id},
            )
        personal = decision.price_minor < inputs.list_minor and any(
            r.startswith(PERSONAL_RULES) for r in decision.rules
        )
        return Offer(
            currency=self.currency,
            list_minor=inputs.list_minor,
            price_minor=decision.price_minor,
            discount_bps=decision.discount_bps,
            rules=decision.rules,
            decision_id=decision_id,
            expires_at=self._offers_expire_at,
            reference_minor=reference_minor(inputs.list_minor, sku.price_history.get(self.currency, ()), self.now),
            personalized=personal,
            offer_token=token,
        )
