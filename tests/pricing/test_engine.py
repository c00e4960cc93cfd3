"""Properties of the pricing engine over random policies, costs, currencies and rule sets."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.pricing.engine import (
    FULL,
    PricingInputs,
    ceil_div,
    compact,
    decide,
    decide_with,
    expand,
    lowest_price,
    margin_floor,
    replay,
    shared_inputs,
    stacked_bps,
    terms,
)
from chalicelib.pricing.logged import DECISION_FIELDS, logged_entries
from chalicelib.pricing.policy import Guardrail, MarkdownStage, Override, PricingPolicy, SegmentRule

NOW = datetime(2030, 6, 1, 12, tzinfo=UTC)
SEGMENTS = ("tier:gold", "cohort:ana", "near:paris-marais", "visit:new", "visit:returning")
bps = st.integers(min_value=0, max_value=FULL)


POPUPS = ("paris-marais", "brooklyn")


@st.composite
def stages(draw: st.DrawFn) -> MarkdownStage:
    """Drop-wide stages, and stages at a pop-up that may also read its footfall and conversion."""
    location = draw(st.none() | st.sampled_from(POPUPS))
    signals = st.none() if location is None else st.none() | st.integers(0, 400)
    return MarkdownStage(
        after_hours=draw(st.integers(0, 200)),
        sell_through_below_bps=draw(bps),
        discount_bps=draw(bps),
        location=location,
        footfall_over=draw(signals),
        conversion_below_bps=draw(st.none() if location is None else st.none() | bps),
    )


@st.composite
def policies(draw: st.DrawFn) -> PricingPolicy:
    rules = draw(
        st.lists(
            st.builds(
                SegmentRule,
                id=st.sampled_from(["a", "b", "c", "d", "e"]),
                segment=st.sampled_from(SEGMENTS),
                discount_bps=bps,
                budget_minor=st.none() | st.fixed_dictionaries({"EUR": st.integers(0, 10_000)}),
            ),
            max_size=5,
            unique_by=lambda r: r.id,
        )
    )
    guardrail = Guardrail(
        max_discount_bps=draw(bps),
        sku_max_discount_bps=draw(st.dictionaries(st.just("SKU"), bps, max_size=1)),
        min_margin_bps=draw(st.integers(0, 30_000)),
        stacking=draw(st.sampled_from(["best_of", "capped_stack"])),
        max_stack_bps=draw(bps),
        overrides=draw(
            st.lists(
                st.builds(
                    Override,
                    kind=st.just("disable"),
                    sku=st.sampled_from([None, "SKU", "OTHER"]),
                    reason=st.just("merchant said so"),
                    author=st.just("maya"),
                    expires_at=st.sampled_from([NOW - timedelta(days=1), NOW + timedelta(days=1)]),
                ),
                max_size=2,
            ).map(tuple)
        ),
    )
    markdowns = draw(st.lists(stages(), max_size=4))
    return PricingPolicy(version=1, guardrail=guardrail, segment_rules=tuple(rules), markdowns=tuple(markdowns))


@st.composite
def inputs(draw: st.DrawFn) -> PricingInputs:
    list_minor = draw(st.integers(1, 10_000_000))
    return PricingInputs(
        sku="SKU",
        currency=draw(st.sampled_from(["EUR", "JPY", "USD", "AED"])),
        list_minor=list_minor,
        cost_minor=draw(st.integers(0, list_minor * 2)),
        segments=tuple(sorted(draw(st.sets(st.sampled_from(SEGMENTS))))),
        cell=draw(st.none() | st.just("exp:cell")),
        cell_discount_bps=draw(bps),
        hours_since_start=draw(st.integers(0, 300)),
        sell_through_bps=draw(bps),
        budgets_left=tuple(sorted(draw(st.dictionaries(st.sampled_from("abcde"), st.integers(-100, 100))).items())),
        now=NOW,
        **draw(signals()),
    )


@st.composite
def signals(draw: st.DrawFn) -> dict[str, Any]:
    """Where the price is given: online (no signals), or at a pop-up with its sell-through there and,
    when read, its footfall and till units today."""
    location = draw(st.none() | st.sampled_from(POPUPS))
    if location is None:
        return {}
    read = draw(st.booleans())
    footfall = draw(st.integers(0, 500)) if read else None
    return {
        "location": location,
        "location_sell_through_bps": draw(bps),
        "footfall": footfall,
        "till_units": draw(st.integers(0, 100)) if read else None,
    }


@settings(max_examples=400)
@given(policy=policies(), given_inputs=inputs())
def test_never_below_the_floor_nor_deeper_than_the_cap(policy: PricingPolicy, given_inputs: PricingInputs) -> None:
    decision = decide(given_inputs, policy)
    list_minor = given_inputs.list_minor
    assert 0 < decision.price_minor <= list_minor
    if "override_disable" in decision.clamps:
        assert decision.price_minor == list_minor
        return
    floor = margin_floor(given_inputs.cost_minor, policy.guardrail.min_margin_bps)
    assert decision.price_minor >= min(floor, list_minor)
    assert decision.discount_bps <= policy.guardrail.depth_cap("SKU")
    if policy.guardrail.stacking == "capped_stack":
        assert decision.discount_bps <= policy.guardrail.max_stack_bps
    assert decision.discount_bps == (list_minor - decision.price_minor) * FULL // list_minor


@given(policy=policies(), given_inputs=inputs())
def test_the_guardrail_admits_every_price_it_decides_and_nothing_deeper(
    policy: PricingPolicy, given_inputs: PricingInputs
) -> None:
    """A booking re-checks an offer token's price with ``lowest_price``: what ``decide`` gives must pass,
    and the bound itself must respect the floor and the caps."""
    decision = decide(given_inputs, policy)
    lowest = lowest_price(given_inputs, policy)
    assert lowest <= decision.price_minor <= given_inputs.list_minor
    floor = margin_floor(given_inputs.cost_minor, policy.guardrail.min_margin_bps)
    assert lowest >= min(floor, given_inputs.list_minor) or decision.clamps[:1] == ("override_pin",)
    assert (given_inputs.list_minor - lowest) * FULL // given_inputs.list_minor <= policy.guardrail.depth_cap(
        "SKU"
    ) or (decision.clamps[:1] == ("override_pin",))


@settings(max_examples=300)
@given(policy=policies(), given_inputs=inputs(), seed=st.integers())
def test_rule_order_does_not_matter(policy: PricingPolicy, given_inputs: PricingInputs, seed: int) -> None:
    shuffled_rules = list(policy.segment_rules)
    shuffled_stages = list(policy.markdowns)
    random.Random(seed).shuffle(shuffled_rules)
    random.Random(seed + 1).shuffle(shuffled_stages)
    shuffled = replace(policy, segment_rules=tuple(shuffled_rules), markdowns=tuple(shuffled_stages))
    assert decide(given_inputs, shuffled) == decide(given_inputs, policy)


@settings(max_examples=300)
@given(policy=policies(), given_inputs=inputs())
def test_replay_is_exact(policy: PricingPolicy, given_inputs: PricingInputs) -> None:
    decision = decide(given_inputs, policy)
    view = {
        "shared": shared_inputs(given_inputs),
        "fields": DECISION_FIELDS,
        "decisions": [compact("d-1", given_inputs, decision)],
    }
    logged = json.loads(json.dumps(view))
    (entry,) = expand(logged["shared"], policy.version, logged_entries(logged))  # as a view's log line is read back
    assert replay(entry, policy) == decision


@st.composite
def other_skus(draw: st.DrawFn, given_inputs: PricingInputs) -> list[PricingInputs]:
    """More SKUs of one view: only the per-SKU inputs differ (``engine.PER_SKU_INPUTS``)."""
    at_popup = given_inputs.location is not None
    return [
        given_inputs._replace(
            sku=draw(st.sampled_from(["SKU", "OTHER", "THIRD"])),
            list_minor=(list_minor := draw(st.integers(1, 10_000_000))),
            cost_minor=draw(st.integers(0, list_minor * 2)),
            sell_through_bps=draw(bps),
            location_sell_through_bps=draw(bps) if at_popup else None,
        )
        for _ in range(draw(st.integers(1, 4)))
    ]


@settings(max_examples=300)
@given(policy=policies(), data=st.data(), given_inputs=inputs())
def test_a_views_decisions_share_its_first_skus_terms(
    policy: PricingPolicy, data: st.DataObject, given_inputs: PricingInputs
) -> None:
    """A view works out the terms once, from its first SKU: every other SKU's decision is its own."""
    view = [given_inputs, *data.draw(other_skus(given_inputs))]
    shared = terms(view[0], policy)
    assert [decide_with(shared, each) for each in view] == [decide(each, policy) for each in view]


@given(st.lists(bps, min_size=1, max_size=6))
def test_a_stack_never_makes_an_item_free(discounts: list[int]) -> None:
    found = tuple((f"r{i}", d) for i, d in enumerate(discounts))
    depth = stacked_bps(found, "capped_stack")
    if FULL not in discounts:
        assert depth < FULL
    assert depth >= max(discounts) or depth == FULL


def test_forty_and_seventy_percent_stack_on_the_discounted_amount() -> None:
    assert stacked_bps((("a", 4000), ("b", 7000)), "capped_stack") == 8200  # 1 − 0.6 × 0.3
    assert stacked_bps((("a", 4000), ("b", 7000)), "best_of") == 7000


def test_rounding_follows_minor_units_and_favours_the_merchant() -> None:
    policy = PricingPolicy(
        version=1,
        guardrail=Guardrail(max_discount_bps=FULL, min_margin_bps=0),
        segment_rules=(SegmentRule(id="a", segment="visit:new", discount_bps=3333),),
    )
    yen = PricingInputs("SKU", "JPY", 1000, 0, ("visit:new",), None, 0, 0, 0, (), NOW)
    assert decide(yen, policy).price_minor == ceil_div(1000 * (FULL - 3333), FULL) == 667  # whole yen, rounded up


def test_expired_overrides_are_ignored_and_active_pins_win() -> None:
    pin = Override(
        kind="pin",
        sku="SKU",
        pin_minor={"EUR": 5000},
        reason="launch price",
        author="maya",
        expires_at=NOW + timedelta(hours=1),
    )
    old = Override(kind="disable", reason="old", author="maya", expires_at=NOW - timedelta(seconds=1))
    policy = PricingPolicy(version=1, guardrail=Guardrail(max_discount_bps=0, min_margin_bps=0, overrides=(old, pin)))
    given_inputs = PricingInputs("SKU", "EUR", 8000, 1000, (), None, 0, 0, 0, (), NOW)
    decision = decide(given_inputs, policy)
    assert (decision.price_minor, decision.clamps) == (5000, ("override_pin",))
    later = PricingInputs("SKU", "EUR", 8000, 1000, (), None, 0, 0, 0, (), NOW + timedelta(hours=2))
    assert decide(later, policy).price_minor == 8000


@given(policy=policies(), given_inputs=inputs())
def test_a_pop_ups_stage_prices_only_what_is_given_there(policy: PricingPolicy, given_inputs: PricingInputs) -> None:
    """Online, or at another pop-up, a stage scoped to a pop-up is never a candidate; the drop-wide
    stages still are."""
    online = given_inputs._replace(location=None, location_sell_through_bps=None, footfall=None, till_units=None)
    labels = [rule for rule, _ in decide(online, policy).candidates if rule.startswith("markdown:")]
    assert all(label.count(":") == 1 for label in labels)
    for rule, _ in decide(given_inputs, policy).candidates:
        if rule.startswith("markdown:") and rule.count(":") == 2:
            assert rule.split(":")[1] == given_inputs.location


PARIS_STAGE = MarkdownStage(
    after_hours=24,
    sell_through_below_bps=3000,
    discount_bps=1000,
    location="paris-marais",
    footfall_over=200,
    conversion_below_bps=500,
)


def at_paris(**changes: Any) -> PricingInputs:
    """A Paris price 30 h in, at 20 % sell-through there, 250 through the door and 5 sold at the till."""
    base = PricingInputs("SKU", "EUR", 10_000, 2_000, (), None, 0, 30, 5000, (), NOW, "paris-marais", 2000, 250, 5)
    return base._replace(**changes)


@pytest.mark.parametrize(
    ("changes", "marked_down"),
    [
        ({}, True),  # 2 % conversion, 250 a day, 20 % sold there: the stage holds
        ({"hours_since_start": 23}, False),
        ({"location_sell_through_bps": 3000}, False),  # sold enough there (the drop's 50 % does not matter)
        ({"footfall": 200}, False),  # not over 200
        ({"footfall": None, "till_units": None}, False),  # the signals were not read
        ({"till_units": 13}, False),  # 5.2 % conversion: not under 5 %
        ({"footfall": 0, "till_units": 0}, False),  # nobody came: no conversion to judge
        ({"location": "brooklyn"}, False),
        ({"location": None, "location_sell_through_bps": None}, False),  # online
    ],
)
def test_the_issues_example_stage(changes: dict[str, Any], marked_down: bool) -> None:
    """At Paris, after 24 h, if sell-through there is under 30 %, footfall over 200 a day and
    conversion under 5 %: 10 % off."""
    policy = PricingPolicy(
        version=1, guardrail=Guardrail(max_discount_bps=3000, min_margin_bps=0), markdowns=(PARIS_STAGE,)
    )
    decision = decide(at_paris(**changes), policy)
    assert (decision.price_minor, decision.rules) == (
        (9000, ("markdown:paris-marais:24h",)) if marked_down else (10_000, ("list_price",))
    )


def test_a_pop_ups_ladder_and_the_drops_are_separate_candidates_the_guardrail_still_bounds() -> None:
    drop_wide = MarkdownStage(after_hours=12, sell_through_below_bps=9000, discount_bps=2500)
    policy = PricingPolicy(
        version=1,
        guardrail=Guardrail(max_discount_bps=3000, min_margin_bps=0, stacking="capped_stack", max_stack_bps=3000),
        markdowns=(PARIS_STAGE, drop_wide),
    )
    decision = decide(at_paris(), policy)
    assert decision.candidates == (("markdown:12h", 2500), ("markdown:paris-marais:24h", 1000))
    assert (decision.price_minor, decision.clamps) == (7000, ("stack_cap",))  # 32.5 % stacked, capped at 30 %


def test_signals_need_a_pop_up() -> None:
    with pytest.raises(ValueError, match="needs a location"):
        MarkdownStage(after_hours=0, sell_through_below_bps=100, discount_bps=100, footfall_over=10)
