"""The offers form: what the policy holds shows as rows in percent and money and reads back to the
same policy; blank and removed rows are left out; each problem lands on its own field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core import records
from chalicelib.pricing.policy import PricingPolicy
from chalicelib.studio.rule_forms import form_values, label_of, row_counts, sections_from
from devtools.seed import demo_drops


def _demo() -> PricingPolicy:
    policy = demo_drops(datetime.now(UTC))[0].pricing
    assert policy is not None and policy.segment_rules and policy.markdowns and policy.experiments
    return policy


def _round_trip(policy: PricingPolicy) -> PricingPolicy:
    sections, found = sections_from(form_values(policy))
    assert found.found == []
    return records.validate(PricingPolicy, {**records.dump(policy), **sections})


def test_the_demo_policy_reads_back_from_its_own_form() -> None:
    policy = _demo()
    assert _round_trip(policy) == policy
    values = form_values(policy)
    assert values["rule.1.kind"] == "cohort" and values["rule.1.who"] == "ana" and values["rule.1.discount_pct"] == "15"
    assert values["rule.1.budget.EUR"] == "500.00" and values["markdown.0.below_pct"] == "40"
    assert values["rule.1.popup_budget.EUR"] == "300.00" and values["rule.1.daily_budget.JPY"] == "32000"
    assert row_counts(policy) == {"rules": 5, "markdowns": 4, "experiments": 3, "cells": [5, 4, 2]}
    paris = {key.split(".")[2]: value for key, value in values.items() if key.startswith("markdown.2.")}
    assert paris == {
        "after_hours": "24",
        "below_pct": "30",
        "discount_pct": "10",
        "location": "paris-marais",
        "footfall_over": "200",
        "conversion_below_pct": "5",
    }


stages = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "after_hours": st.integers(0, 500),
                "sell_through_below_bps": st.integers(0, 10_000),
                "discount_bps": st.integers(0, 10_000),
            }
        ),
        st.fixed_dictionaries(
            {
                "after_hours": st.integers(0, 500),
                "sell_through_below_bps": st.integers(0, 10_000),
                "discount_bps": st.integers(0, 10_000),
                "location": st.sampled_from(["paris-marais", "brooklyn"]),
                "footfall_over": st.none() | st.integers(0, 10_000),
                "conversion_below_bps": st.none() | st.integers(0, 10_000),
            }
        ),
    ),
    max_size=5,
)


@given(stages)
def test_any_markdown_stages_read_back_from_their_form(markdowns: list[dict[str, Any]]) -> None:
    policy = records.validate(PricingPolicy, {**records.dump(_demo()), "markdowns": markdowns})
    assert _round_trip(policy) == policy


def test_a_stage_that_reads_footfall_needs_a_pop_up() -> None:
    form = {"markdown.0.after_hours": "24", "markdown.0.below_pct": "30", "markdown.0.footfall_over": "200"}
    _, found = sections_from(form)
    assert [(p["field"], p["label"]) for p in found.found] == [("markdown.0.location", "Markdown 1: where")]


budgets = st.none() | st.fixed_dictionaries({"EUR": st.integers(0, 10**8), "JPY": st.integers(0, 10**8)})
rules = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True),
            "segment": st.tuples(
                st.sampled_from(["tier", "cohort", "near", "visit"]), st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True)
            ).map(":".join),
            "discount_bps": st.integers(0, 10_000),
            "budget_minor": budgets,
            "popup_budget_minor": budgets,
            "daily_budget_minor": budgets,
        }
    ),
    max_size=6,
)


@given(rules)
def test_any_offer_rules_read_back_from_their_form(segment_rules: list[dict[str, Any]]) -> None:
    policy = records.validate(PricingPolicy, {**records.dump(_demo()), "segment_rules": segment_rules})
    assert _round_trip(policy) == policy


def test_blank_rows_add_nothing_and_removed_rows_go() -> None:
    values = form_values(_demo()) | {
        "rule.9.id": "",
        "rule.9.who": "",
        "rule.9.discount_pct": "",
        "rule.0.remove": "yes",
    }
    values |= {"experiment.0.cell.7.name": "", "experiment.0.cell.7.weight": "", "markdown.1.remove": "yes"}
    sections, found = sections_from(values)
    assert found.found == []
    assert [r["id"] for r in sections["segment_rules"]] == ["creator-ana", "popup-paris", "welcome"]
    assert len(sections["markdowns"]) == 2 and len(sections["experiments"][0]["cells"]) == 3


def test_each_problem_is_on_its_field_in_words() -> None:
    values = form_values(_demo()) | {
        "rule.0.discount_pct": "ten",
        "rule.2.who": "Paris Marais!",
        "rule.1.budget.EUR": "5.555",
        "rule.1.daily_budget.JPY": "12.5",
        "markdown.0.after_hours": "soon",
        "experiment.1.cell.1.weight": "half",
        "experiment.0.cell.0.discount_pct": "150",
    }
    sections, found = sections_from(values)
    by_field = {p["field"]: p for p in found.found}
    assert set(by_field) == {
        "rule.0.discount_pct",
        "rule.2.who",
        "rule.1.budget.EUR",
        "rule.1.daily_budget.JPY",
        "markdown.0.after_hours",
        "experiment.1.cell.1.weight",
        "experiment.0.cell.0.discount_pct",
    }
    assert by_field["rule.0.discount_pct"]["label"] == "Offer rule 1: discount"
    assert by_field["experiment.1.cell.1.weight"]["label"] == "Experiment 2, cell 2: weight"
    assert by_field["rule.1.budget.EUR"]["label"] == "Offer rule 2: budget (EUR)"
    assert by_field["rule.1.daily_budget.JPY"]["label"] == "Offer rule 2: budget per day (JPY)"
    assert by_field["experiment.0.cell.0.discount_pct"]["problem"] == "Input should be less than or equal to 100 %"
    assert [r["id"] for r in sections["segment_rules"]] == ["welcome"]  # only the rows without a problem


def test_labels_for_fields_outside_the_form_are_the_field() -> None:
    assert label_of("form") == "form"
    assert label_of("markdown.0.below_pct") == "Markdown 1: sold through below"


def test_what_budgets_granted_reads_in_words_latest_days_only() -> None:
    """Pop-ups by their names, days as a person writes them and whose day they are."""
    from chalicelib.studio.pricing import budget_use

    spent = {
        "ana@EUR": 12_340,
        "ana@JPY": 500,
        "ana@EUR@at:paris-marais": 8_000,
        "ana@EUR@day:2026-12-03": 1_000,
        "ana@EUR@day:2026-12-04": 2_000,
        "ana@EUR@day:2026-12-05": 4_000,
        "gold@USD@day:2026-12-05": 100,
    }
    assert budget_use(spent, demo_drops(datetime(2030, 1, 1, tzinfo=UTC))[0].catalog) == {
        "ana": [
            "whole drop: 123.40 EUR",
            "whole drop: 500 JPY",
            "at Paris · Le Marais: 80.00 EUR",
            "on Fri, Dec 4 (pop-up's local day): 20.00 EUR",
            "on Sat, Dec 5 (pop-up's local day): 40.00 EUR",
        ],
        "gold": ["on Sat, Dec 5 (pop-up's local day): 1.00 USD"],
    }
