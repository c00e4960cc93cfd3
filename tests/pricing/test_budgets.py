"""Budgets for the whole drop, each pop-up and each day: a booking charges every counter that applies,
and what a page or booking sees left is exactly what those counters allow."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from chalicelib.pricing.budgets import BudgetScope, budgets_left, charged_counters, charges, rule_left, used_up_here
from chalicelib.pricing.policy import Guardrail, PricingPolicy, SegmentRule

POPUPS = ("paris-marais", "brooklyn", "lyon")
DAY = date(2026, 12, 5)

amounts = st.none() | st.fixed_dictionaries({"EUR": st.integers(0, 10_000)})
rules = st.builds(
    SegmentRule,
    id=st.just("ana"),
    segment=st.just("cohort:ana"),
    discount_bps=st.integers(1, 5_000),
    budget_minor=amounts,
    popup_budget_minor=amounts,
    daily_budget_minor=amounts,
)
spends = st.dictionaries(
    st.sampled_from(
        ["ana@EUR", "ana@USD"]
        + [f"ana@EUR@at:{p}" for p in POPUPS]
        + [f"ana@EUR@day:{(DAY + timedelta(days=d)).isoformat()}" for d in (-1, 0, 1)]
    ),
    st.integers(0, 12_000),
)


@given(rules, spends, st.sampled_from(POPUPS))
def test_a_booking_sees_left_exactly_what_its_counters_allow(
    rule: SegmentRule, spent: dict[str, int], popup: str
) -> None:
    counters = charged_counters(rule, "EUR", DAY, popup)
    left = rule_left(rule, "EUR", BudgetScope(DAY, (popup,)), spent) if rule.budgeted else None
    if counters:
        assert left == min(cap - spent.get(name, 0) for name, cap in counters.items())
    assert bool(counters) == rule.budgeted


@given(rules, spends)
def test_a_page_before_the_pop_up_is_chosen_sees_the_best_pop_up(rule: SegmentRule, spent: dict[str, int]) -> None:
    assume(rule.budgeted)
    anywhere = rule_left(rule, "EUR", BudgetScope(DAY, POPUPS), spent)
    assert anywhere == max(rule_left(rule, "EUR", BudgetScope(DAY, (p,)), spent) for p in POPUPS)


@given(rules, spends, st.sampled_from(POPUPS), st.integers(1, 5_000))
def test_a_charge_within_every_counter_leaves_no_counter_overspent(
    rule: SegmentRule, spent: dict[str, int], popup: str, granted: int
) -> None:
    """What the booking's conditions hold: a charge goes through only if every counter stays within
    its budget, and then the rule has that much less left."""
    policy = PricingPolicy(
        version=1, guardrail=Guardrail(max_discount_bps=5_000, min_margin_bps=0), segment_rules=(rule,)
    )
    spend, caps = charges(policy, "EUR", DAY, popup, [("ana", granted), ("unknown", 7)])
    assert set(spend) == set(caps) == set(charged_counters(rule, "EUR", DAY, popup))
    scope = BudgetScope(DAY, (popup,))
    if all(spent.get(name, 0) + amount <= caps[name] for name, amount in spend.items()) and spend:
        after = {**spent, **{name: spent.get(name, 0) + amount for name, amount in spend.items()}}
        assert rule_left(rule, "EUR", scope, after) == rule_left(rule, "EUR", scope, spent) - granted >= 0


def test_a_day_or_a_pop_up_used_up_stops_the_discount_there_only() -> None:
    rule = SegmentRule(
        id="ana",
        segment="cohort:ana",
        discount_bps=1_500,
        budget_minor={"EUR": 50_000},
        popup_budget_minor={"EUR": 30_000},
        daily_budget_minor={"EUR": 20_000},
    )
    policy = PricingPolicy(
        version=1, guardrail=Guardrail(max_discount_bps=5_000, min_margin_bps=0), segment_rules=(rule,)
    )
    spent = {"ana@EUR": 25_000, "ana@EUR@at:paris-marais": 30_000, "ana@EUR@day:2026-12-04": 20_000}
    assert budgets_left(policy, "EUR", BudgetScope(DAY, ("paris-marais",)), spent) == (("ana", 0),)
    assert budgets_left(policy, "EUR", BudgetScope(DAY, ("brooklyn",)), spent) == (("ana", 20_000),)
    assert budgets_left(policy, "EUR", BudgetScope(DAY, POPUPS), spent) == (("ana", 20_000),)
    yesterday = BudgetScope(DAY - timedelta(days=1), ("brooklyn",))
    assert budgets_left(policy, "EUR", yesterday, spent) == (("ana", 0),)
    assert budgets_left(policy, "JPY", BudgetScope(DAY, ("brooklyn",)), {}) == (("ana", 0),)  # no budget in yen


def test_used_up_here_is_a_qualifying_discount_spent_at_the_pop_up_but_not_everywhere() -> None:
    rule = SegmentRule(id="ana", segment="cohort:ana", discount_bps=1_500, popup_budget_minor={"EUR": 100})
    policy = PricingPolicy(
        version=1, guardrail=Guardrail(max_discount_bps=5_000, min_margin_bps=0), segment_rules=(rule,)
    )
    paris, everywhere = BudgetScope(DAY, ("paris-marais",)), BudgetScope(DAY, POPUPS)
    spent = {"ana@EUR@at:paris-marais": 100}
    assert used_up_here(policy, "EUR", ("cohort:ana",), paris, everywhere, spent)
    assert not used_up_here(policy, "EUR", ("tier:gold",), paris, everywhere, spent)  # not theirs
    assert not used_up_here(policy, "EUR", ("cohort:ana",), BudgetScope(DAY, ("brooklyn",)), everywhere, spent)
    everywhere_spent = {f"ana@EUR@at:{p}": 100 for p in POPUPS}
    assert not used_up_here(policy, "EUR", ("cohort:ana",), paris, everywhere, everywhere_spent)  # the page knew
