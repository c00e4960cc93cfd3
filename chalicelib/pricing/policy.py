"""A drop's pricing policy: offer rules, experiments, and the merchant's guardrail.

Stored as one item per drop and checked when read (``records.read``): a policy that cannot be
read or breaks a rule makes every offer fail closed (list price). Discounts are basis points (1 % = 100 bps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from chalicelib.core.models import AwareDatetime, CurrencyCode, Label, MinorUnits
from chalicelib.core.records import Record, Rule

Bps = Annotated[int, Rule(ge=0, le=10_000, strict=True)]
Segment = Annotated[str, Rule(pattern=r"^(tier|cohort|near|visit):[a-z0-9-]{1,40}$")]
"""``tier:gold``, ``cohort:ana``, ``near:paris-marais``, ``visit:new`` / ``visit:returning``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Override(Record):
    """A merchant's explicit decision: pin a price or disable discounts, for a SKU or the whole drop."""

    kind: Literal["pin", "disable"]
    sku: str | None = None
    pin_minor: dict[CurrencyCode, MinorUnits] | None = None
    reason: Annotated[str, Rule(min_length=3, max_length=200)]
    author: Annotated[str, Rule(min_length=1, max_length=100)]
    expires_at: AwareDatetime

    def __post_init__(self) -> None:
        if (self.kind == "pin") != bool(self.pin_minor):
            raise ValueError("a pin needs pin_minor prices, and only a pin has them")


@dataclass(frozen=True, slots=True, kw_only=True)
class Guardrail(Record):
    max_discount_bps: Bps
    sku_max_discount_bps: dict[str, Bps] = field(default_factory=dict)
    min_margin_bps: Annotated[int, Rule(ge=0, le=100_000, strict=True)]
    stacking: Literal["best_of", "capped_stack"] = "best_of"
    max_stack_bps: Bps = 10_000
    max_discounted_units_per_visitor: Annotated[int, Rule(ge=0)] = 2  # per customer and visitor, all bookings
    max_units_per_customer: Annotated[int, Rule(ge=0)] = 0  # of each SKU and size, all bookings; 0: no limit
    overrides: tuple[Override, ...] = ()

    def depth_cap(self, sku: str) -> int:
        return min(self.max_discount_bps, self.sku_max_discount_bps.get(sku, self.max_discount_bps))


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentRule(Record):
    """A discount for visitors in a segment. A cohort's rule may carry spend budgets, per currency:
    for the whole drop, for each pop-up, and for each day (see ``pricing.budgets``)."""

    id: Label
    segment: Segment
    discount_bps: Bps
    budget_minor: dict[CurrencyCode, MinorUnits] | None = None
    popup_budget_minor: dict[CurrencyCode, MinorUnits] | None = None
    daily_budget_minor: dict[CurrencyCode, MinorUnits] | None = None

    @property
    def budgeted(self) -> bool:
        """Whether any budget limits what this rule grants (its discount stops once one is spent)."""
        return any(b is not None for b in (self.budget_minor, self.popup_budget_minor, self.daily_budget_minor))


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkdownStage(Record):
    """From ``after_hours`` into the drop, if sell-through is below plan, mark down.

    A stage scoped to a ``location`` (a pop-up) prices only what is given there (its QR try-on page,
    a pickup booked there) and reads that pop-up's signals: the SKU's sell-through there, and, when
    asked, its footfall today (people through the door, its local day) and conversion today (units
    sold at its till ÷ footfall). A stage with no location reads the drop's sell-through only."""

    after_hours: Annotated[int, Rule(ge=0)]
    sell_through_below_bps: Bps
    discount_bps: Bps
    location: Annotated[str, Rule(pattern=r"^[a-z0-9-]{1,40}$")] | None = None
    footfall_over: Annotated[int, Rule(ge=0)] | None = None
    conversion_below_bps: Bps | None = None

    def __post_init__(self) -> None:
        if self.location is None and (self.footfall_over is not None or self.conversion_below_bps is not None):
            raise ValueError("footfall and conversion are a pop-up's: a stage that reads them needs a location")

    @property
    def label(self) -> str:
        """What a decision calls it: ``markdown:48h``, or ``markdown:paris-marais:24h``."""
        return f"markdown:{self.location}:{self.after_hours}h" if self.location else f"markdown:{self.after_hours}h"


Channel = Literal["online", "popup"]
"""Where a price is given: on the drop's pages, or at a pop-up (its QR try-on page and the booking
that follows a try-on)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell(Record):
    name: Annotated[str, Rule(pattern=r"^[a-z0-9-]{1,30}$")]
    weight: Annotated[int, Rule(ge=0, le=10_000)]
    discount_bps: Bps = 0
    urgency: Literal["none", "scarcity", "countdown"] = "none"  # both state real numbers, never invented ones
    channel: Channel | Literal["any"] = (
        "any"  # where the cell's discount applies; elsewhere its visitors pay as the baseline
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Experiment(Record):
    """Visitors hash into weighted cells; experiments sharing a ``group`` never overlap."""

    id: Label
    seed: Annotated[str, Rule(min_length=1, max_length=64)]
    group: str | None = None
    cells: Annotated[tuple[Cell, ...], Rule(min_length=1)]

    def __post_init__(self) -> None:
        if sum(c.weight for c in self.cells) <= 0:
            raise ValueError("an experiment needs cells with positive total weight")


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingPolicy(Record):
    version: Annotated[int, Rule(ge=1)]
    guardrail: Guardrail
    segment_rules: tuple[SegmentRule, ...] = ()
    markdowns: tuple[MarkdownStage, ...] = ()
    experiments: tuple[Experiment, ...] = ()
