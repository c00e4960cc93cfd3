"""Discount budgets: what a budgeted rule may still grant, and the counters a booking charges.

A rule's budget may be set three ways, each per currency: for the whole drop, for each pop-up, and
for each day (the pop-up's local day). A booking's discount is charged to every counter that
applies to it, each taken with a condition in the booking's transaction, so none is overspent. What
a rule may still grant is the least that any of them has left; a page that does not know the pickup
pop-up yet counts the pop-up budget with the most left. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from chalicelib.pricing.policy import PricingPolicy, SegmentRule


@dataclass(frozen=True, slots=True)
class BudgetScope:
    """Where and when a discount would be granted: the local day, and the pop-ups it may be
    picked up at (one once the shopper has chosen; every pickup pop-up of the drop before)."""

    day: date
    popups: tuple[str, ...]


def total_name(rule_id: str, currency: str) -> str:
    return f"{rule_id}@{currency}"


def popup_name(rule_id: str, currency: str, popup: str) -> str:
    return f"{rule_id}@{currency}@at:{popup}"


def day_name(rule_id: str, currency: str, day: date) -> str:
    return f"{rule_id}@{currency}@day:{day.isoformat()}"


def charged_counters(rule: SegmentRule, currency: str, day: date, popup: str | None) -> dict[str, int]:
    """The counters a discount granted under ``rule`` at ``popup`` on ``day`` adds to, each with its
    budget (minor units; a budget not set in ``currency`` is 0, so nothing is granted there). With
    no pop-up (a drop no shopper can pick up from), the pop-up budget does not apply."""
    counters: dict[str, int] = {}
    if rule.budget_minor is not None:
        counters[total_name(rule.id, currency)] = rule.budget_minor.get(currency, 0)
    if rule.popup_budget_minor is not None and popup is not None:
        counters[popup_name(rule.id, currency, popup)] = rule.popup_budget_minor.get(currency, 0)
    if rule.daily_budget_minor is not None:
        counters[day_name(rule.id, currency, day)] = rule.daily_budget_minor.get(currency, 0)
    return counters


def rule_left(rule: SegmentRule, currency: str, scope: BudgetScope, spent: Mapping[str, int]) -> int:
    """What ``rule`` may still grant in ``scope``, in minor units (≤ 0: its discount stops): the
    least its counters have left at the scope's pop-up with the most left."""

    def left_at(popup: str | None) -> int:
        counters = charged_counters(rule, currency, scope.day, popup)
        return min((cap - spent.get(name, 0) for name, cap in counters.items()), default=0)

    return max((left_at(popup) for popup in scope.popups), default=left_at(None))


def used_up_here(
    policy: PricingPolicy,
    currency: str,
    segments: tuple[str, ...],
    here: BudgetScope,
    anywhere: BudgetScope,
    spent: Mapping[str, int],
) -> bool:
    """Whether a budgeted discount the visitor qualifies for is used up ``here`` (their pop-up, today)
    though not ``anywhere``: the drop's page, which cannot know the pop-up, still offered it."""
    return any(
        rule.budgeted
        and rule.segment in segments
        and rule_left(rule, currency, here, spent) <= 0 < rule_left(rule, currency, anywhere, spent)
        for rule in policy.segment_rules
    )


def budgets_left(
    policy: PricingPolicy, currency: str, scope: BudgetScope, spent: Mapping[str, int]
) -> tuple[tuple[str, int], ...]:
    """(rule id, minor units left) for every budgeted rule, sorted: the engine's input."""
    return tuple(sorted((r.id, rule_left(r, currency, scope, spent)) for r in policy.segment_rules if r.budgeted))


def charges(
    policy: PricingPolicy | None, currency: str, day: date, popup: str, granted: Iterable[tuple[str, int]]
) -> tuple[dict[str, int], dict[str, int]]:
    """A booking's charges: ``granted`` is (budgeted rule id, minor units) per line. Returns what each
    counter is charged and each charged counter's budget."""
    rules = {rule.id: rule for rule in (policy.segment_rules if policy else ())}
    spend: dict[str, int] = {}
    caps: dict[str, int] = {}
    for rule_id, amount in granted:
        if amount <= 0 or rule_id not in rules:
            continue
        for name, cap in charged_counters(rules[rule_id], currency, day, popup).items():
            spend[name] = spend.get(name, 0) + amount
            caps[name] = cap
    return spend, caps
