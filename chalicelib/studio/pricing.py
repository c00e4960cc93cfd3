"""Changing a drop's pricing from the studio: the guardrail, overrides (each with a reason and an
expiry), and the offer rules and experiments. Pure: every change gives the next immutable policy
version, a one-line summary for the audit log and each changed field in the merchant's units, or
every problem with the form."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from chalicelib.core import records
from chalicelib.core.audit import FieldChange
from chalicelib.core.errors import Conflict, Unprocessable
from chalicelib.core.models import DropCatalog
from chalicelib.i18n.formatting import calendar_day, major_units
from chalicelib.pricing.policy import Experiment, Guardrail, MarkdownStage, Override, PricingPolicy, SegmentRule
from chalicelib.studio.drops import FormProblems, from_local, local_time, place_name, to_minor

PERCENT_FIELDS = {
    "max_discount_pct": "max_discount_bps",
    "min_margin_pct": "min_margin_bps",
    "max_stack_pct": "max_stack_bps",
}
"""The guardrail form's percentages and the policy's basis points they become."""
COUNT_FIELDS = ("max_discounted_units_per_visitor", "max_units_per_customer")
RULE_SECTIONS = ("segment_rules", "markdowns", "experiments")
MAX_RULES_JSON = 32 * 1024
GUARDRAIL_LABELS = {
    "max_discount_bps": "Deepest discount",
    "min_margin_bps": "Margin floor",
    "max_stack_bps": "Stack cap",
    "max_discounted_units_per_visitor": "Discounted units per customer",
    "max_units_per_customer": "Most of each piece and size per customer",
    "stacking": "Stacking",
}
STACKING_WORDS = {"best_of": "the best offer only", "capped_stack": "offers stacked, up to the stack cap"}
RULE_LABELS = {"segment_rules": "Offer rules", "markdowns": "Markdowns", "experiments": "Experiments"}


class PolicyChange(NamedTuple):
    """The next policy version, what the audit log says about it, and the fields it changed."""

    policy: PricingPolicy
    summary: str
    changes: tuple[FieldChange, ...]


def percent(bps: int) -> str:
    """Basis points as a person reads them: 1250 → "12.5 %"."""
    return f"{percent_number(bps)} %"


def percent_number(bps: int) -> str:
    """Basis points as the number a percent field shows: 1250 → "12.5"."""
    return f"{Decimal(bps).scaleb(-2).normalize():f}"


_PERCENT = re.compile(r"^\d{1,6}([.,]\d{1,2})?$")


def from_percent(text: str) -> int:
    """What a person types in a percent field ("12.5", "12,5 %") as basis points (1250);
    ``ValueError`` for anything else (at most two decimals: a basis point is the policy's unit)."""
    cleaned = text.strip().removesuffix("%").strip()
    if not _PERCENT.match(cleaned):
        raise ValueError("needs a percentage such as 30 or 12.5")
    return int(Decimal(cleaned.replace(",", ".")).scaleb(2))


def guardrail_value(name: str, value: Any) -> str:
    """A guardrail setting in the merchant's units."""
    if name.endswith("_bps"):
        return percent(value)
    if name == "stacking":
        return STACKING_WORDS.get(str(value), str(value))
    if name == "max_units_per_customer" and value == 0:
        return "no limit"
    return str(value)


def pinned_text(override: Override) -> str:
    """An override's pinned prices in money: "30.00 USD, 28.00 EUR"."""
    return ", ".join(f"{major_units(m, c)} {c}" for c, m in (override.pin_minor or {}).items())


def override_text(override: Override, zone: str) -> str:
    """An override as a person reads it: "price 30.00 USD until 2026-12-24 18:00 (Europe/Paris): reason"."""
    what = "price " + pinned_text(override) if override.kind == "pin" else "no discounts"
    return f"{what} until {local_time(override.expires_at, zone)}: {override.reason}"


OVERRIDE_KINDS = {"pin": "price pinned", "disable": "no discounts"}


def override_rows(policy: PricingPolicy | None, zone: str) -> list[dict[str, str]]:
    """The overrides as the pricing page lists them, in words, money and the drop's local time."""
    overrides = policy.guardrail.overrides if policy else ()
    return [
        {
            "kind": OVERRIDE_KINDS.get(o.kind, o.kind),
            "sku": o.sku or "every SKU",
            "pinned": pinned_text(o) or "—",
            "reason": o.reason,
            "author": o.author,
            "until": local_time(o.expires_at, zone).rsplit(" (", 1)[0],
        }
        for o in overrides
    ]


DEFAULT_GUARDRAIL = {
    "max_discount_pct": "30",
    "min_margin_pct": "20",
    "max_stack_pct": "100",
    "stacking": "best_of",
    "max_discounted_units_per_visitor": "2",
    "max_units_per_customer": "0",
}


def guardrail_form(policy: PricingPolicy | None, typed: Mapping[str, str] | None) -> dict[str, str]:
    """The guardrail form's values: what was typed (after a refusal), else the policy's in percent,
    else a first policy's defaults."""
    if typed is not None:
        return {name: typed.get(name, "") for name in DEFAULT_GUARDRAIL}
    if policy is None:
        return dict(DEFAULT_GUARDRAIL)
    g = policy.guardrail
    return {
        **{form: percent_number(getattr(g, bps)) for form, bps in PERCENT_FIELDS.items()},
        "stacking": g.stacking,
        **{name: str(getattr(g, name)) for name in COUNT_FIELDS},
    }


def _next(policy: PricingPolicy | None, **changes: Any) -> PricingPolicy:
    base = records.dump(policy) if policy else {"guardrail": None}
    return records.validate(PricingPolicy, {**base, **changes, "version": (policy.version if policy else 0) + 1})


def needs(policy: PricingPolicy | None) -> PricingPolicy:
    if policy is None:
        raise Conflict("Set the drop's guardrail first.", code="no_policy")
    return policy


def with_guardrail(policy: PricingPolicy | None, form: Mapping[str, str]) -> PolicyChange:
    found = FormProblems()
    numbers: dict[str, Any] = {}
    for name, bps_name in PERCENT_FIELDS.items():
        try:
            numbers[bps_name] = from_percent(form.get(name, ""))
        except ValueError as error:
            found.add(name, str(error), GUARDRAIL_LABELS[bps_name])
    for name in COUNT_FIELDS:
        try:
            numbers[name] = int(form.get(name, ""))
        except ValueError:
            found.add(name, "needs a whole number", GUARDRAIL_LABELS[name])
    found.raise_any()
    kept = records.dump(policy.guardrail) if policy else {}
    changes = {**kept, **numbers, "stacking": form.get("stacking", "best_of")}
    guardrail = found.model(lambda: records.validate(Guardrail, changes))
    found.found = [_as_the_form_says(problem) for problem in found.found]
    found.raise_any()
    new = _next(policy, guardrail=records.dump(guardrail))
    before = policy.guardrail if policy else None
    changed = tuple(
        FieldChange(
            label,
            guardrail_value(name, getattr(before, name)) if before else "",
            guardrail_value(name, getattr(guardrail, name)),
        )
        for name, label in GUARDRAIL_LABELS.items()
        if before is None or getattr(before, name) != getattr(guardrail, name)
    )
    return PolicyChange(new, "guardrail: " + (", ".join(c.field for c in changed) or "saved unchanged"), changed)


def _as_the_form_says(problem: dict[str, str]) -> dict[str, str]:
    """pydantic's problem with a policy field ("max_discount_bps: less than or equal to 10000") as
    the form says it: its field, its label, percentages."""
    name = problem["field"]
    if name not in GUARDRAIL_LABELS:
        return problem
    field = next((form for form, bps in PERCENT_FIELDS.items() if bps == name), name)
    text = in_percent(problem["problem"]) if name.endswith("_bps") else problem["problem"]
    return {"field": field, "label": GUARDRAIL_LABELS[name], "problem": text}


def in_percent(problem: str) -> str:
    """pydantic's words about a basis-point field with its numbers in percent ("less than or equal
    to 10000" → "… to 100 %")."""
    return re.sub(r"\d+", lambda number: percent(int(number[0])), problem)


def with_override(
    policy: PricingPolicy | None,
    form: Mapping[str, str],
    author: str,
    zone: str,
    now: datetime,
    costs: Mapping[str, Mapping[str, int]],
) -> PolicyChange:
    """Add an override: pin a price or disable discounts, for a SKU or the whole drop, until a time.
    A pin below what a SKU costs (``costs``: SKU → currency → cost) needs the form's explicit
    ``below_cost`` confirmation, and the audit summary says so."""
    current = needs(policy)
    found = FormProblems()
    kind = form.get("kind", "")
    sku = form.get("sku", "").strip() or None
    pins: dict[str, int] = {}
    if kind == "pin":
        for name, text in form.items():
            if name.startswith("pin.") and text.strip():
                try:
                    pins[name[4:]] = to_minor(text, name[4:])
                except ValueError as error:
                    found.add(name, str(error))
    below = below_cost(pins, costs, sku)
    if below and form.get("below_cost") != "yes":
        for currency, (cost_sku, cost) in below.items():
            found.add(
                f"pin.{currency}",
                f"is below what {cost_sku} costs ({cost / 100:.2f} {currency}): tick 'Sell below cost' to confirm",
            )
    expires: datetime | None = None
    try:
        expires = from_local(form.get("expires_at", ""), zone)
        if expires <= now:
            found.add("expires_at", "must be in the future")
    except ValueError:
        found.add("expires_at", "is needed: when the override stops")
    override = found.model(
        lambda: records.validate(
            Override,
            {
                "kind": kind,
                "sku": sku,
                "pin_minor": pins or None,
                "reason": form.get("reason", "").strip(),
                "author": author,
                "expires_at": expires or now,
            },
        )
    )
    found.raise_any()
    guardrail = replace(current.guardrail, overrides=(*current.guardrail.overrides, override))
    new = _next(current, guardrail=records.dump(guardrail))
    on, marked = sku or "every SKU", " BELOW COST (confirmed)" if below else ""
    change = FieldChange(f"Override on {on}", "", override_text(override, zone) + marked)
    return PolicyChange(new, f"override added on {on}{marked}", (change,))


def below_cost(
    pins: Mapping[str, int], costs: Mapping[str, Mapping[str, int]], sku: str | None
) -> dict[str, tuple[str, int]]:
    """Per pinned currency, the SKU (of the one pinned, or of all) whose cost the pin is under, and
    that cost; empty when every pin covers its costs."""
    under: dict[str, tuple[str, int]] = {}
    for currency, pin in pins.items():
        for code, by_currency in costs.items():
            cost = by_currency.get(currency)
            mine = sku is None or code == sku
            if mine and cost is not None and pin < cost and cost > under.get(currency, ("", -1))[1]:
                under[currency] = (code, cost)
    return under


def without_override(policy: PricingPolicy | None, form: Mapping[str, str], zone: str) -> PolicyChange:
    current = needs(policy)
    overrides = current.guardrail.overrides
    try:
        index = int(form.get("index", ""))
        removed = overrides[index]
    except (ValueError, IndexError):
        raise Unprocessable("Choose an override to remove.", code="invalid_form") from None
    kept = tuple(o for i, o in enumerate(overrides) if i != index)
    guardrail = replace(current.guardrail, overrides=kept)
    new = _next(current, guardrail=records.dump(guardrail))
    on = removed.sku or "every SKU"
    return PolicyChange(
        new, f"override removed on {on}", (FieldChange(f"Override on {on}", override_text(removed, zone), ""),)
    )


def rules_json(policy: PricingPolicy | None) -> str:
    """The offer rules, markdowns and experiments as the editor shows them."""
    data = records.dump(policy, mode="json", include=set(RULE_SECTIONS)) if policy else {}
    return json.dumps({section: data.get(section, []) for section in RULE_SECTIONS}, indent=2, ensure_ascii=False)


SEGMENT_KINDS = {
    "tier": "loyalty tier",
    "cohort": "creator cohort",
    "near": "near the pop-up",
    "visit": "visit (new or returning)",
}
URGENCY_WORDS = {"none": "no urgency cue", "scarcity": "pieces left", "countdown": "time left"}
CHANNEL_WORDS = {"any": "everywhere", "online": "on the drop's pages", "popup": "at the pop-up (QR try-on)"}
"""Where a cell's discount applies (``policy.Cell.channel``), as the pricing form offers it."""


def _money(amounts: Mapping[str, int] | None) -> str:
    """Amounts with their currencies, in a fixed order (the same budget always reads the same)."""
    return ", ".join(f"{major_units(m, c)} {c}" for c, m in sorted((amounts or {}).items()))


def _rule_words(rule: SegmentRule) -> str:
    kind, _, who = rule.segment.partition(":")
    budgets = (
        f", {words} {_money(amounts)}"
        for words, amounts in (
            ("budget", rule.budget_minor),
            ("budget per pop-up", rule.popup_budget_minor),
            ("budget per day", rule.daily_budget_minor),
        )
        if amounts
    )
    return f"{SEGMENT_KINDS.get(kind, kind)} {who}, {percent(rule.discount_bps)} off" + "".join(budgets)


def _markdown_words(stage: MarkdownStage) -> str:
    below = percent(stage.sell_through_below_bps)
    if stage.location is None:
        return f"after {stage.after_hours} h, if sold through below {below}: {percent(stage.discount_bps)} off"
    signals = "".join(
        (
            f", footfall today over {stage.footfall_over}" if stage.footfall_over is not None else "",
            f", conversion today below {percent(stage.conversion_below_bps)}"
            if stage.conversion_below_bps is not None
            else "",
        )
    )
    return (
        f"at {stage.location}, after {stage.after_hours} h, if sold through there below {below}{signals}: "
        f"{percent(stage.discount_bps)} off there"
    )


def _experiment_words(experiment: Experiment) -> str:
    cells = "; ".join(
        f"{c.name} weight {c.weight}, {percent(c.discount_bps)} off {CHANNEL_WORDS[c.channel]}, "
        f"{URGENCY_WORDS.get(c.urgency, c.urgency)}"
        for c in experiment.cells
    )
    group = f" (group {experiment.group})" if experiment.group else ""
    return f"seed {experiment.seed}{group}: {cells}"


def _section_items(policy: PricingPolicy) -> dict[str, str]:
    """Every rule, markdown stage and experiment, by what the audit log calls it, in words."""
    items = {f"Offer rule {r.id}": _rule_words(r) for r in policy.segment_rules}
    items |= {f"Markdown {i + 1}": _markdown_words(m) for i, m in enumerate(policy.markdowns)}
    return items | {f"Experiment {e.id}": _experiment_words(e) for e in policy.experiments}


def with_rules(policy: PricingPolicy | None, text: str) -> PolicyChange:
    """Replace the offer rules, markdowns and experiments from the editor's JSON."""
    current = needs(policy)
    if len(text.encode()) > MAX_RULES_JSON:
        raise Unprocessable("The rules are too long.", code="invalid_form")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise Unprocessable(
            "The rules are not valid JSON.",
            code="invalid_form",
            details=[{"field": f"line {error.lineno}, column {error.colno}", "problem": error.msg}],
        ) from None
    if not isinstance(data, dict) or set(data) - set(RULE_SECTIONS):
        raise Unprocessable(f"Give an object with only {', '.join(RULE_SECTIONS)}.", code="invalid_form")
    return with_sections(current, data, FormProblems())


def with_sections(current: PricingPolicy, data: Mapping[str, Any], found: FormProblems) -> PolicyChange:
    """The next version with these offer rules, markdowns and experiments (from the JSON editor or
    the form), or a 422 with every problem ``found`` so far and the policy's own."""
    found.raise_any()
    new = found.model(lambda: _next(current, **{s: data.get(s, []) for s in RULE_SECTIONS}))
    found.raise_any()
    counts = ", ".join(f"{len(getattr(new, s))} {RULE_LABELS[s].lower()}" for s in RULE_SECTIONS)
    before, after = _section_items(current), _section_items(new)
    changed = tuple(
        FieldChange(name, before.get(name, ""), after.get(name, ""))
        for name in [*before, *(n for n in after if n not in before)]
        if before.get(name) != after.get(name)
    )
    return PolicyChange(new, f"rules and experiments: {counts}", changed)


def budget_use(spent: Mapping[str, int], catalog: DropCatalog, days: int = 2) -> dict[str, list[str]]:
    """What each budgeted rule has granted so far, in words, by rule id: the whole drop's, each
    pop-up's (by its name) and the latest ``days`` days' counters (``pricing.budgets``; a day is the
    local day where the discount was granted), each with its currency."""
    totals: dict[str, list[str]] = {}
    places: dict[str, list[str]] = {}
    dated: dict[str, list[tuple[str, str]]] = {}
    for name, minor in sorted(spent.items()):
        rule, currency, *scope = name.split("@")
        amount = f"{major_units(minor, currency)} {currency}"
        where = scope[0] if scope else ""
        if where.startswith("at:"):
            places.setdefault(rule, []).append(f"at {place_name(catalog, where[3:])}: {amount}")
        elif where.startswith("day:"):
            dated.setdefault(rule, []).append((where[4:], amount))
        elif not where:
            totals.setdefault(rule, []).append(f"whole drop: {amount}")
    words: dict[str, list[str]] = {}
    for rule in sorted({*totals, *places, *dated}):
        latest = sorted({day for day, _ in dated.get(rule, [])})[-days:]
        on_days = [f"on {_day_words(day)}: {amount}" for day, amount in dated.get(rule, []) if day in latest]
        words[rule] = totals.get(rule, []) + places.get(rule, []) + on_days
    return words


def _day_words(day: str) -> str:
    """A day counter's day as a person reads it, saying whose day it is: the pop-up's, where each
    discount was booked (``Sat, Dec 5 (pop-up's local day)``)."""
    return f"{calendar_day(date.fromisoformat(day), 'en')} (pop-up's local day)"
