"""Records are read two ways, pydantic for input and ``records.read`` for what the store gives back:
the two must agree on what a record is and on what breaks one."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.core import records
from chalicelib.core.models import DropCatalog, Location, PickupSchedule
from chalicelib.pricing.policy import Guardrail, MarkdownStage, PricingPolicy
from chalicelib.web.request import LandingQuery
from devtools.seed import DemoDrop, demo_drops

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
DEMOS = demo_drops(NOW)


@pytest.mark.parametrize("demo", DEMOS, ids=lambda demo: demo.catalog.drop.slug)
def test_what_pydantic_writes_reads_back_equal(demo: DemoDrop) -> None:
    stored = records.dump(demo.catalog, mode="json")
    assert records.read(DropCatalog, stored) == demo.catalog == records.validate(DropCatalog, stored)
    if demo.pricing is not None:
        policy = records.dump(demo.pricing, mode="json")
        assert records.read(PricingPolicy, policy) == demo.pricing


def _location(**changes: Any) -> dict[str, Any]:
    place = next(p for demo in DEMOS for p in demo.catalog.locations if p.kind == "popup" and p.pickup)
    return {**records.dump(place, mode="json"), **changes}


BROKEN = {
    "a pattern": ({"id": "Not A Slug"}, "id"),
    "a pattern, then a newline": ({"id": "paris\n"}, "id"),
    "a bound": ({"latitude": 91.0}, "latitude"),
    "a type": ({"name": "Paris"}, "name"),
    "a literal": ({"kind": "warehouse"}, "kind"),
    "a field it does not have": ({"rent": 100}, "rent"),
    "a time without its zone": ({"opens_at": "2026-12-06T09:00:00"}, "opens_at"),
    "a nested rule": ({"tryon": {"hold_minutes": 0}}, "tryon.hold_minutes"),
    "a rule across fields": (
        {"pickup": {"opens": "18:00:00", "closes": "09:00:00", "slot_minutes": 30, "capacity": 2}},
        "pickup",
    ),
}


@pytest.mark.parametrize("changes, field", BROKEN.values(), ids=BROKEN.keys())
def test_both_readers_refuse_what_breaks_a_rule_and_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError):
        records.validate(Location, _location(**changes))
    with pytest.raises(records.RecordError) as refused:
        records.read(Location, _location(**changes))
    assert refused.value.field == field


def test_a_missing_field_is_refused() -> None:
    with pytest.raises(records.RecordError, match="kind"):
        records.read(Location, {key: value for key, value in _location().items() if key != "kind"})


@given(
    st.dictionaries(
        st.sampled_from(["max_discount_bps", "min_margin_bps", "max_stack_bps", "max_units_per_customer"]),
        st.integers(-5, 110_000),
    )
)
def test_the_readers_agree_on_every_number(numbers: dict[str, int]) -> None:
    both_read(Guardrail, {"max_discount_bps": 1_000, "min_margin_bps": 2_000, **numbers})


def both_read(record: type[object], data: dict[str, Any]) -> None:
    """pydantic and ``records.read`` make the same record of ``data``, or both refuse it."""
    try:
        expected: object = records.validate(record, data)
    except ValidationError:
        expected = None
    try:
        read: object = records.read(record, data)
    except records.RecordError:
        read = None
    assert read == expected


@given(st.sampled_from([None, "paris-marais"]), st.sampled_from([None, 40]))
def test_the_readers_agree_on_a_rule_across_fields(location: str | None, footfall: int | None) -> None:
    data = {"after_hours": 24, "sell_through_below_bps": 3_000, "discount_bps": 1_000, "location": location}
    data |= {"footfall_over": footfall}
    refused = location is None and footfall is not None
    for read, error in ((records.validate, ValidationError), (records.read, records.RecordError)):
        if refused:
            with pytest.raises(error, match="a pop-up's"):
                read(MarkdownStage, data)
        else:
            assert read(MarkdownStage, data).footfall_over == footfall


def test_money_is_whole_minor_units_on_both_paths() -> None:
    policy = records.dump(next(demo.pricing for demo in DEMOS if demo.pricing), mode="json")
    guardrail = {**policy["guardrail"], "overrides": [], "max_discount_bps": 12.5}
    for read, error in ((records.validate, ValidationError), (records.read, records.RecordError)):
        with pytest.raises(error):
            read(Guardrail, guardrail)


def test_a_shopper_query_ignores_what_it_does_not_know_and_checks_what_it_does() -> None:
    query = records.read(LandingQuery, {"lang": "fr", "utm_source": "ig", "hold": "h" + "0" * 17})
    assert query == LandingQuery(lang="fr", hold="h" + "0" * 17)
    with pytest.raises(records.RecordError) as refused:
        records.read(LandingQuery, {"m": "deleted"})
    assert refused.value.field == "m"


def test_schedules_are_local_wall_clock_times() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        records.read(
            PickupSchedule, {"opens": "09:00:00+02:00", "closes": "18:00:00+02:00", "slot_minutes": 30, "capacity": 2}
        )


QUERY_VALUES = st.one_of(
    st.sampled_from(["fr", "fr\n", "pt-BR", "zh_Hant", "", "x" * 40, "released", "notify", "h" + "a" * 17]),
    st.text(max_size=30),
)


@given(st.dictionaries(st.sampled_from(["lang", "c", "m", "hold", "utm_source"]), QUERY_VALUES))
def test_the_readers_agree_on_every_landing_query(params: dict[str, str]) -> None:
    """The landing page's query is read without pydantic (its cold start); pydantic, reading the same
    declaration, accepts and refuses the same queries."""
    both_read(LandingQuery, params)


def test_every_dataclass_field_type_is_what_typing_resolves() -> None:
    """``records`` evaluates each annotation once per module; for every dataclass in chalicelib the
    result equals ``typing.get_type_hints`` (inherited fields, aliases, ``Annotated`` rules, literals)."""
    import chalicelib

    checked = 0
    for module_info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        module = importlib.import_module(module_info.name)
        for kind in vars(module).values():
            if not (dataclasses.is_dataclass(kind) and isinstance(kind, type) and kind.__module__ == module.__name__):
                continue
            names = {field.name for field in dataclasses.fields(kind)}
            hints = typing.get_type_hints(kind, include_extras=True)
            assert records._field_types(kind) == {name: hints[name] for name in names}, kind
            checked += 1
    assert checked > 100
