"""The offer rules, markdowns and experiments as a form a marketer fills in: one row per rule or
stage, one block per experiment with a row per cell, discounts in percent, budgets in money, and a
blank row to add one. Pure: form fields in, the policy's sections (or every problem) out; the JSON
editor stays as the advanced view of the same sections.

Field names: ``rule.<i>.{id,kind,who,discount_pct,remove}`` and ``rule.<i>.<budget>.<CUR>``, where
``<budget>`` is ``budget`` (whole drop), ``popup_budget`` (each pop-up) or ``daily_budget`` (each day);
``markdown.<i>.{after_hours,below_pct,discount_pct,location,footfall_over,conversion_below_pct,remove}``;
``experiment.<i>.{id,seed,group,remove}``
and ``experiment.<i>.cell.<j>.{name,weight,discount_pct,urgency,channel}``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from chalicelib.core import records
from chalicelib.i18n.formatting import major_units
from chalicelib.pricing.policy import Cell, Experiment, MarkdownStage, PricingPolicy, SegmentRule
from chalicelib.studio.drops import FormProblems, to_minor
from chalicelib.studio.pricing import from_percent, in_percent, percent_number

BLANK_ROWS = 1
BLANK_CELLS = 2
MAX_ROWS = 40

BUDGETS = {"budget": "budget_minor", "popup_budget": "popup_budget_minor", "daily_budget": "daily_budget_minor"}
"""A rule's budgets: the form's name → the policy's."""
BUDGET_WORDS = {"budget": "Budget", "popup_budget": "Budget per pop-up", "daily_budget": "Budget per day"}
BUDGET_ROWS = {"budget": "Whole drop", "popup_budget": "Each pop-up", "daily_budget": "Each day"}

_INDEXED = re.compile(r"^(rule|markdown|experiment)\.(\d{1,2})\.(.+)$")
_CELL = re.compile(r"^cell\.(\d{1,2})\.(.+)$")


def form_values(policy: PricingPolicy | None) -> dict[str, str]:
    """The form's fields for the policy's sections, in the merchant's units."""
    values: dict[str, str] = {}
    for i, rule in enumerate(policy.segment_rules if policy else ()):
        kind, _, who = rule.segment.partition(":")
        values |= {f"rule.{i}.id": rule.id, f"rule.{i}.kind": kind, f"rule.{i}.who": who}
        values[f"rule.{i}.discount_pct"] = percent_number(rule.discount_bps)
        for kind, field_name in BUDGETS.items():
            for currency, minor in (getattr(rule, field_name) or {}).items():
                values[f"rule.{i}.{kind}.{currency}"] = major_units(minor, currency)
    for i, stage in enumerate(policy.markdowns if policy else ()):
        values[f"markdown.{i}.after_hours"] = str(stage.after_hours)
        values[f"markdown.{i}.below_pct"] = percent_number(stage.sell_through_below_bps)
        values[f"markdown.{i}.discount_pct"] = percent_number(stage.discount_bps)
        values[f"markdown.{i}.location"] = stage.location or ""
        values[f"markdown.{i}.footfall_over"] = "" if stage.footfall_over is None else str(stage.footfall_over)
        conversion = stage.conversion_below_bps
        values[f"markdown.{i}.conversion_below_pct"] = "" if conversion is None else percent_number(conversion)
    for i, experiment in enumerate(policy.experiments if policy else ()):
        values |= {f"experiment.{i}.id": experiment.id, f"experiment.{i}.seed": experiment.seed}
        values[f"experiment.{i}.group"] = experiment.group or ""
        for j, cell in enumerate(experiment.cells):
            prefix = f"experiment.{i}.cell.{j}"
            values |= {
                f"{prefix}.name": cell.name,
                f"{prefix}.weight": str(cell.weight),
                f"{prefix}.urgency": cell.urgency,
                f"{prefix}.channel": cell.channel,
            }
            values[f"{prefix}.discount_pct"] = percent_number(cell.discount_bps)
    return values


def budget_currencies(policy: PricingPolicy | None, currencies: Iterable[str]) -> list[str]:
    """The currencies a rule's budgets are typed in: the drop's, and any a budget already has (so the
    form never drops part of a budget it cannot show)."""
    held = {
        currency
        for rule in (policy.segment_rules if policy else ())
        for field_name in BUDGETS.values()
        for currency in (getattr(rule, field_name) or {})
    }
    return sorted({*currencies, *held})


def row_counts(policy: PricingPolicy | None, typed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """How many rows each section shows (what there is, or was typed, and a blank one to add), and
    the cells each experiment shows."""
    if typed:
        groups = _grouped(typed)
        rules, markdowns, experiments = (len(groups[s]) for s in ("rule", "markdown", "experiment"))
        cells = [len(_cells(groups["experiment"].get(i, {}))) for i in sorted(groups["experiment"])]
    else:
        rules = len(policy.segment_rules) if policy else 0
        markdowns = len(policy.markdowns) if policy else 0
        experiments = len(policy.experiments) if policy else 0
        cells = [len(e.cells) for e in policy.experiments] if policy else []
        rules, markdowns, experiments = rules + BLANK_ROWS, markdowns + BLANK_ROWS, experiments + BLANK_ROWS
        cells = [*cells, 0]
    return {
        "rules": rules,
        "markdowns": markdowns,
        "experiments": experiments,
        "cells": [n + BLANK_CELLS if not typed else n for n in cells],
    }


def _grouped(form: Mapping[str, str]) -> dict[str, dict[int, dict[str, str]]]:
    groups: dict[str, dict[int, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for name, value in form.items():
        found = _INDEXED.match(name)
        if found and int(found[2]) < MAX_ROWS:
            groups[found[1]][int(found[2])][found[3]] = value
    return groups


def _cells(fields: Mapping[str, str]) -> dict[int, dict[str, str]]:
    cells: dict[int, dict[str, str]] = defaultdict(dict)
    for name, value in fields.items():
        found = _CELL.match(name)
        if found and int(found[1]) < MAX_ROWS:
            cells[int(found[1])][found[2]] = value
    return cells


def _blank(fields: Mapping[str, str], keys: Iterable[str]) -> bool:
    return not any(fields.get(key, "").strip() for key in keys)


def _pct(found: FormProblems, field: str, text: str, label: str) -> int | None:
    try:
        return from_percent(text or "0")
    except ValueError as error:
        found.add(field, str(error), label)
        return None


def _checked(
    found: FormProblems,
    prefix: str,
    model: type[Any],
    data: dict[str, Any],
    names: Mapping[str, str],
    problems_before: int,
) -> bool:
    """Whether ``data`` makes a valid ``model``, each pydantic problem put on the form field it came
    from (``names``: the model's field → the form's). A row whose fields already failed to parse is
    not checked again (one problem per mistake)."""
    if len(found.found) > problems_before:
        return False
    found.model(partial(records.validate, model, data), prefix=prefix)
    for problem in found.found[problems_before:]:
        head, _, rest = problem["field"].removeprefix(prefix).partition(".")
        problem["field"] = prefix + names.get(head, head) + (f".{rest}" if rest else "")
        if head.endswith("_bps"):
            problem["problem"] = in_percent(problem["problem"])
    return len(found.found) == problems_before


RULE_NAMES = {"segment": "who", "discount_bps": "discount_pct", **{v: k for k, v in BUDGETS.items()}}
MARKDOWN_NAMES = {
    "sell_through_below_bps": "below_pct",
    "discount_bps": "discount_pct",
    "conversion_below_bps": "conversion_below_pct",
}
CELL_NAMES = {"discount_bps": "discount_pct"}


def _whole(text: str) -> int | str:
    """A whole number as typed, else the text (for the model to refuse in words)."""
    return int(text.strip()) if text.strip().isdigit() else text.strip()


def _rules(found: FormProblems, rows: Mapping[int, Mapping[str, str]]) -> list[dict[str, Any]]:
    kept = []
    for i, row in sorted(rows.items()):
        if row.get("remove") or _blank(row, ("id", "who")):
            continue
        prefix, before = f"rule.{i}.", len(found.found)
        budgets: dict[str, dict[str, int]] = {kind: {} for kind in BUDGETS}
        for key, text in row.items():
            kind, _, currency = key.partition(".")
            if kind in BUDGETS and text.strip():
                try:
                    budgets[kind][currency] = to_minor(text, currency)
                except ValueError as error:
                    found.add(prefix + key, str(error), f"{BUDGET_WORDS[kind]} ({currency})")
        data = {
            "id": row.get("id", "").strip(),
            "segment": f"{row.get('kind', '')}:{row.get('who', '').strip()}",
            "discount_bps": _pct(found, prefix + "discount_pct", row.get("discount_pct", ""), "Discount"),
            **{BUDGETS[kind]: amounts or None for kind, amounts in budgets.items()},
        }
        if _checked(found, prefix, SegmentRule, data, RULE_NAMES, before):
            kept.append(data)
    return kept


def _markdowns(found: FormProblems, rows: Mapping[int, Mapping[str, str]]) -> list[dict[str, Any]]:
    kept = []
    for i, row in sorted(rows.items()):
        if row.get("remove") or _blank(row, ("after_hours", "below_pct", "discount_pct")):
            continue
        prefix, before = f"markdown.{i}.", len(found.found)
        data = {
            "after_hours": _whole(row.get("after_hours", "")),
            "sell_through_below_bps": _pct(found, prefix + "below_pct", row.get("below_pct", ""), "Sell-through below"),
            "discount_bps": _pct(found, prefix + "discount_pct", row.get("discount_pct", ""), "Discount"),
            "location": row.get("location", "").strip() or None,
            "footfall_over": _whole(row["footfall_over"]) if row.get("footfall_over", "").strip() else None,
            "conversion_below_bps": (
                _pct(found, prefix + "conversion_below_pct", row["conversion_below_pct"], "Conversion below")
                if row.get("conversion_below_pct", "").strip()
                else None
            ),
        }
        if data["location"] is None and (data["footfall_over"] is not None or data["conversion_below_bps"] is not None):
            found.add(prefix + "location", "Choose the pop-up whose footfall and conversion the stage reads.", "Where")
        if _checked(found, prefix, MarkdownStage, data, MARKDOWN_NAMES, before):
            kept.append(data)
    return kept


def _experiments(found: FormProblems, rows: Mapping[int, Mapping[str, str]]) -> list[dict[str, Any]]:
    kept = []
    for i, row in sorted(rows.items()):
        if row.get("remove") or _blank(row, ("id", "seed")):
            continue
        prefix, before = f"experiment.{i}.", len(found.found)
        cells = []
        for j, cell in sorted(_cells(row).items()):
            if _blank(cell, ("name",)):
                continue
            cell_prefix, cell_before = f"{prefix}cell.{j}.", len(found.found)
            data = {
                "name": cell.get("name", "").strip(),
                "weight": _whole(cell.get("weight", "")),
                "discount_bps": _pct(found, cell_prefix + "discount_pct", cell.get("discount_pct", ""), "Discount"),
                "urgency": cell.get("urgency", "none"),
                "channel": cell.get("channel", "any"),
            }
            if _checked(found, cell_prefix, Cell, data, CELL_NAMES, cell_before):
                cells.append(data)
        experiment = {
            "id": row.get("id", "").strip(),
            "seed": row.get("seed", "").strip(),
            "group": row.get("group", "").strip() or None,
            "cells": cells,
        }
        if _checked(found, prefix, Experiment, experiment, {}, before):
            kept.append(experiment)
    return kept


def sections_from(form: Mapping[str, str]) -> tuple[dict[str, list[dict[str, Any]]], FormProblems]:
    """The policy's ``segment_rules``, ``markdowns`` and ``experiments`` from the form (blank rows
    and rows marked remove left out), and every problem, each on its field."""
    found, groups = FormProblems(), _grouped(form)
    sections = {
        "segment_rules": _rules(found, groups["rule"]),
        "markdowns": _markdowns(found, groups["markdown"]),
        "experiments": _experiments(found, groups["experiment"]),
    }
    for problem in found.found:
        problem["label"] = label_of(problem["field"])
    return sections, found


SECTION_WORDS = {"rule": "Offer rule", "markdown": "Markdown", "experiment": "Experiment"}
FIELD_WORDS = {
    "id": "name",
    "who": "who",
    "discount_pct": "discount",
    "after_hours": "hours into the drop",
    "below_pct": "sold through below",
    "location": "where",
    "footfall_over": "footfall today over",
    "conversion_below_pct": "conversion today below",
    "seed": "seed",
    "group": "group",
    "cells": "cells",
    "name": "name",
    "weight": "weight",
    "urgency": "cue",
    "channel": "where the discount applies",
}


def label_of(field: str) -> str:
    """What the form calls a field: ``experiment.1.cell.0.weight`` → "Experiment 2, cell 1: weight"."""
    found = _INDEXED.match(field)
    if found is None:
        return field
    where, rest = f"{SECTION_WORDS[found[1]]} {int(found[2]) + 1}", found[3]
    cell = _CELL.match(rest)
    if cell:
        where, rest = f"{where}, cell {int(cell[1]) + 1}", cell[2]
    head, _, currency = rest.partition(".")
    if head in BUDGETS:
        return f"{where}: {BUDGET_WORDS[head].lower()} ({currency})"
    return f"{where}: " + FIELD_WORDS.get(head, head)
