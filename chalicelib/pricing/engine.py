"""The pricing decision: candidate discounts, stacking, the guardrail, and replay. Pure: no I/O.

All arithmetic is integer minor units and basis points, so a decision replays exactly and does not
depend on the order its rules come in. Rounding always favours the merchant: the price is rounded up
to a whole minor unit, so no rounding can take it under the margin floor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from chalicelib.pricing.logged import DecisionRow
from chalicelib.pricing.policy import MarkdownStage, Override, PricingPolicy

FULL = 10_000  # basis points in 100 %


class PricingInputs(NamedTuple):
    """Everything a decision depends on besides the policy. A named tuple, not a frozen dataclass:
    a view builds one per SKU, and a frozen dataclass's ``__init__`` (an ``object.__setattr__`` per
    field) made ``Pricer.inputs`` 4.4 µs against 1.5 (decision 113)."""

    sku: str
    currency: str
    list_minor: int
    cost_minor: int
    segments: tuple[str, ...]  # sorted
    cell: str | None  # "experiment:cell"
    cell_discount_bps: int
    hours_since_start: int
    sell_through_bps: int
    budgets_left: tuple[tuple[str, int], ...]  # (rule id, minor units left), sorted
    now: datetime
    location: str | None = None  # the pop-up the price is given at (None: online, before a pickup is chosen)
    location_sell_through_bps: int | None = None  # the SKU's sell-through there
    footfall: int | None = None  # people through its door today, its local day (None: not read)
    till_units: int | None = None  # units sold at its till today

    @property
    def conversion_bps(self) -> int | None:
        return conversion_bps(self.till_units, self.footfall)


def conversion_bps(till_units: int | None, footfall: int | None) -> int | None:
    """Units sold at a pop-up's till per person through its door (bps); None before anyone came."""
    if not footfall or till_units is None:
        return None
    return till_units * FULL // footfall


class Decision(NamedTuple):
    price_minor: int
    discount_bps: int
    rules: tuple[str, ...]  # what the price came from, after the guardrail
    candidates: tuple[tuple[str, int], ...]  # (rule, bps) before stacking
    clamps: tuple[str, ...]  # why the guardrail changed it


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def margin_floor(cost_minor: int, min_margin_bps: int) -> int:
    """The lowest price the margin allows: cost × (1 + min_margin), rounded up."""
    return ceil_div(cost_minor * (FULL + min_margin_bps), FULL)


class Terms(NamedTuple):
    """The part of a decision that does not depend on the SKU: the visitor's discounts, the markdown
    stages the moment and the place allow, the overrides in force. A view works them out once for
    its SKUs, where each of its 20 decisions walked the policy's rules (decision 114)."""

    policy: PricingPolicy
    shared: tuple[tuple[str, int], ...]  # segment and cell discounts, sorted
    shared_bps: int  # what they stack to
    stages: tuple[MarkdownStage, ...]  # reached here and now: only sell-through is left to check, per SKU
    overrides: tuple[Override, ...]  # unexpired, in the order they apply (disable before pin)


def terms(inputs: PricingInputs, policy: PricingPolicy) -> Terms:
    """The terms of ``inputs``' decision, which every SKU of its view shares: this reads only the
    inputs a view's decisions share (not ``PER_SKU_INPUTS``)."""
    found: list[tuple[str, int]] = []
    budgets_left = dict(inputs.budgets_left)
    for rule in policy.segment_rules:
        if rule.segment not in inputs.segments or rule.discount_bps == 0:
            continue
        if rule.budgeted and budgets_left.get(rule.id, 0) <= 0:
            continue  # the cohort's budget is spent (here, today or in all)
        found.append((f"segment:{rule.id}", rule.discount_bps))
    if inputs.cell and inputs.cell_discount_bps:
        found.append((f"cell:{inputs.cell}", inputs.cell_discount_bps))
    found.sort()
    shared = tuple(found)
    stages = tuple(stage for stage in policy.markdowns if _stage_reached(stage, inputs))
    overrides = _in_force(policy.guardrail.overrides, inputs.now)
    return Terms(policy, shared, stacked_bps(shared, policy.guardrail.stacking), stages, overrides)


def _in_force(overrides: tuple[Override, ...], now: datetime) -> tuple[Override, ...]:
    """The overrides not yet expired, in the order they apply (disable before pin)."""
    live = [override for override in overrides if now < override.expires_at]
    if len(live) > 1:
        live.sort(key=lambda o: (o.kind, o.sku or "", o.expires_at))
    return tuple(live)


def _candidates(view: Terms, inputs: PricingInputs) -> tuple[tuple[str, int], ...]:
    """Every discount this visitor qualifies for, sorted (so the order of rules cannot matter): the
    view's terms' and the SKU's markdowns, the latest stage whose sell-through plan it is behind,
    drop-wide and at the pop-up."""
    if not view.stages:
        return view.shared
    ladders: dict[str | None, MarkdownStage] = {}
    for stage in view.stages:
        reached = ladders.get(stage.location)
        if _behind_plan(stage, inputs) and (
            reached is None or (stage.after_hours, stage.discount_bps) > (reached.after_hours, reached.discount_bps)
        ):
            ladders[stage.location] = stage
    if not ladders:
        return view.shared
    return tuple(sorted([*view.shared, *((stage.label, stage.discount_bps) for stage in ladders.values())]))


def _stage_reached(stage: MarkdownStage, inputs: PricingInputs) -> bool:
    """A markdown stage's conditions but sell-through: its hour is reached and, for a pop-up's stage,
    the price is given there, with that pop-up's footfall over and its conversion under the stage's
    marks when it sets them."""
    if inputs.hours_since_start < stage.after_hours:
        return False
    if stage.location is None:
        return True
    if stage.location != inputs.location:
        return False
    if stage.footfall_over is not None and (inputs.footfall is None or inputs.footfall <= stage.footfall_over):
        return False
    if stage.conversion_below_bps is not None:
        conversion = inputs.conversion_bps
        return conversion is not None and conversion < stage.conversion_below_bps
    return True


def _behind_plan(stage: MarkdownStage, inputs: PricingInputs) -> bool:
    """Whether a reached stage's SKU sells below its plan: the drop's sell-through, or for a pop-up's
    stage the SKU's there."""
    if stage.location is None:
        return inputs.sell_through_bps < stage.sell_through_below_bps
    there = inputs.location_sell_through_bps
    return there is not None and there < stage.sell_through_below_bps


def stacked_bps(found: tuple[tuple[str, int], ...], mode: str) -> int:
    """Best-of takes the deepest; a stack applies each to the already-discounted amount."""
    if not found:
        return 0
    if mode == "best_of":
        return max(bps for _, bps in found)
    remaining_num, remaining_den = 1, 1
    for _, bps in found:
        remaining_num *= FULL - bps
        remaining_den *= FULL
    return FULL - ceil_div(remaining_num * FULL, remaining_den)  # round the remainder up: never deeper


def _overridden(in_force: tuple[Override, ...], inputs: PricingInputs) -> Decision | None:
    """The decision an active merchant override forces, if one applies (disable wins over pin)."""
    list_minor = inputs.list_minor
    for override in in_force:  # mostly none
        if override.sku is not None and override.sku != inputs.sku:
            continue
        if override.kind == "disable":
            return Decision(list_minor, 0, ("override:disable",), (), ("override_disable",))
        pinned = (override.pin_minor or {}).get(inputs.currency)
        if pinned is not None:
            price = min(pinned, list_minor)
            return Decision(price, _bps(list_minor, price), ("override:pin",), (), ("override_pin",))
    return None


def lowest_price(inputs: PricingInputs, policy: PricingPolicy) -> int:
    """The lowest price the guardrail allows for this SKU now, whatever the rules offer."""
    forced = _overridden(_in_force(policy.guardrail.overrides, inputs.now), inputs)
    if forced is not None:
        return forced.price_minor
    guardrail = policy.guardrail
    depth = guardrail.depth_cap(inputs.sku)
    if guardrail.stacking == "capped_stack":
        depth = min(depth, guardrail.max_stack_bps)
    floor = min(margin_floor(inputs.cost_minor, guardrail.min_margin_bps), inputs.list_minor)
    return max(ceil_div(inputs.list_minor * (FULL - depth), FULL), floor)


def decide(inputs: PricingInputs, policy: PricingPolicy) -> Decision:
    return decide_with(terms(inputs, policy), inputs)


def decide_with(view: Terms, inputs: PricingInputs) -> Decision:
    """``decide`` for a SKU whose ``view``'s terms are worked out (from any of its SKUs' inputs)."""
    forced = _overridden(view.overrides, inputs)
    if forced is not None:
        return forced
    guardrail = view.policy.guardrail
    list_minor = inputs.list_minor
    found = _candidates(view, inputs)
    clamps: list[str] = []
    # No markdown of the SKU's joined the view's discounts: their stack is already worked out.
    depth = view.shared_bps if found is view.shared else stacked_bps(found, guardrail.stacking)
    if guardrail.stacking == "capped_stack" and depth > guardrail.max_stack_bps:
        depth = guardrail.max_stack_bps
        clamps.append("stack_cap")
    cap = guardrail.depth_cap(inputs.sku)
    if depth > cap:
        depth = cap
        clamps.append("max_depth")
    price = ceil_div(list_minor * (FULL - depth), FULL)
    floor = min(margin_floor(inputs.cost_minor, guardrail.min_margin_bps), list_minor)
    if price < floor:
        price = floor
        clamps.append("margin_floor")
    rules = tuple(rule for rule, _ in found) if price < list_minor else ("list_price",)
    return Decision(price, _bps(list_minor, price), rules, found, tuple(clamps))


def fail_closed(inputs: PricingInputs) -> Decision:
    """The list price, when the policy cannot be read."""
    return Decision(inputs.list_minor, 0, ("list_price",), (), ("policy_unavailable",))


def _bps(list_minor: int, price: int) -> int:
    return (list_minor - price) * FULL // list_minor if list_minor else 0


PER_SKU_INPUTS = ("sku", "list_minor", "cost_minor", "sell_through_bps", "location_sell_through_bps")
"""Inputs that differ between the SKUs of one view; the others are the visitor's and the moment's."""


def shared_inputs(inputs: PricingInputs) -> dict[str, Any]:
    """The inputs every decision of one view shares, JSON-ready (logged once per view)."""
    return {
        "currency": inputs.currency,
        "segments": list(inputs.segments),
        "cell": inputs.cell,
        "cell_discount_bps": inputs.cell_discount_bps,
        "hours_since_start": inputs.hours_since_start,
        "budgets_left": [list(pair) for pair in inputs.budgets_left],
        "now": inputs.now.isoformat(),
        "location": inputs.location,
        "footfall": inputs.footfall,
        "till_units": inputs.till_units,
    }


def compact(decision_id: str, inputs: PricingInputs, decision: Decision) -> DecisionRow:
    """One decision without the shared inputs, as a row of ``DECISION_FIELDS``: the per-SKU part of
    the view's log line."""
    return (
        decision_id,
        inputs.sku,
        inputs.list_minor,
        inputs.cost_minor,
        inputs.sell_through_bps,
        inputs.location_sell_through_bps,
        decision.candidates,
        decision.clamps,
        decision.rules,
        decision.price_minor,
        decision.discount_bps,
    )


def expand(shared: dict[str, Any], policy_version: int | None, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Self-contained decision records (what ``replay`` takes) from a view's log line."""
    records = []
    for entry in entries:
        inputs = {**shared, **{key: entry[key] for key in PER_SKU_INPUTS if key in entry}}  # older lines lack some
        outcome = {k: v for k, v in entry.items() if k not in PER_SKU_INPUTS}
        records.append({**outcome, "policy_version": policy_version, "inputs": inputs})
    return records


def replay(entry: dict[str, Any], policy: PricingPolicy | None) -> Decision:
    """Recompute a recorded decision from its inputs and the policy version it names."""
    raw = dict(entry["inputs"])
    raw["now"] = datetime.fromisoformat(raw["now"])
    raw["segments"] = tuple(raw["segments"])
    raw["budgets_left"] = tuple((rule, left) for rule, left in raw["budgets_left"])
    inputs = PricingInputs(**raw)
    return fail_closed(inputs) if policy is None else decide(inputs, policy)
