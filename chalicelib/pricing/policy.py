"""A drop's pricing policy: offer rules, experiments, and the merchant's guardrail.

Stored as one item per drop and validated when read: a policy that cannot be read or validated
makes every offer fail closed (list price). Discounts are basis points (1 % = 100 bps).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from chalicelib.core.model import Model
from chalicelib.core.models import AwareDatetime, CurrencyCode, Label, MinorUnits

Bps = Annotated[int, Field(ge=0, le=10_000, strict=True)]
Segment = Annotated[str, Field(pattern=r"^(tier|cohort|near|visit):[a-z0-9-]{1,40}$")]
"""``tier:gold``, ``cohort:ana``, ``near:paris-marais``, ``visit:new`` / ``visit:returning``."""


class Strict(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Override(Strict):
    """A merchant's explicit decision: pin a price or disable discounts, for a SKU or the whole drop."""

    kind: Literal["pin", "disable"]
    sku: str | None = None
    pin_minor: dict[CurrencyCode, MinorUnits] | None = None
    reason: str = Field(min_length=3, max_length=200)
    author: str = Field(min_length=1, max_length=100)
    expires_at: AwareDatetime

    @model_validator(mode="after")
    def _pin_has_prices(self) -> Override:
        if (self.kind == "pin") != bool(self.pin_minor):
            raise ValueError("a pin needs pin_minor prices, and only a pin has them")
        return self

    def active(self, sku: str, now: datetime) -> bool:
        return now < self.expires_at and self.sku in (None, sku)


class Guardrail(Strict):
    max_discount_bps: Bps
    sku_max_discount_bps: dict[str, Bps] = Field(default_factory=dict)
    min_margin_bps: Annotated[int, Field(ge=0, le=100_000, strict=True)]
    stacking: Literal["best_of", "capped_stack"] = "best_of"
    max_stack_bps: Bps = 10_000
    max_discounted_units_per_visitor: Annotated[int, Field(ge=0)] = 2  # per customer and visitor, all bookings
    max_units_per_customer: Annotated[int, Field(ge=0)] = 0  # of each SKU and size, all bookings; 0: no limit
    overrides: tuple[Override, ...] = ()

    def depth_cap(self, sku: str) -> int:
        return min(self.max_discount_bps, self.sku_max_discount_bps.get(sku, self.max_discount_bps))


class SegmentRule(Strict):
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


class MarkdownStage(Strict):
    """From ``after_hours`` into the drop, if sell-through is below plan, mark down.

    A stage scoped to a ``location`` (a pop-up) prices only what is given there (its QR try-on page,
    a pickup booked there) and reads that pop-up's signals: the SKU's sell-through there, and, when
    asked, its footfall today (people through the door, its local day) and conversion today (units
    sold at its till ÷ footfall). A stage with no location reads the drop's sell-through only."""

    after_hours: Annotated[int, Field(ge=0)]
    sell_through_below_bps: Bps
    discount_bps: Bps
    location: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,40}$")
    footfall_over: Annotated[int, Field(ge=0)] | None = None
    conversion_below_bps: Bps | None = None

    @model_validator(mode="after")
    def _signals_need_a_pop_up(self) -> MarkdownStage:
        if self.location is None and (self.footfall_over is not None or self.conversion_below_bps is not None):
            raise ValueError("footfall and conversion are a pop-up's: a stage that reads them needs a location")
        return self

    @property
    def label(self) -> str:
        """What a decision calls it: ``markdown:48h``, or ``markdown:paris-marais:24h``."""
        return f"markdown:{self.location}:{self.after_hours}h" if self.location else f"markdown:{self.after_hours}h"


Channel = Literal["online", "popup"]
"""Where a price is given: on the drop's pages, or at a pop-up (its QR try-on page and the booking
that follows a try-on)."""


class Cell(Strict):
    name: str = Field(pattern=r"^[a-z0-9-]{1,30}$")
    weight: Annotated[int, Field(ge=0, le=10_000)]
    discount_bps: Bps = 0
    urgency: Literal["none", "scarcity", "countdown"] = "none"  # both state real numbers, never invented ones
    channel: Channel | Literal["any"] = (
        "any"  # where the cell's discount applies; elsewhere its visitors pay as the baseline
    )


class Experiment(Strict):
    """Visitors hash into weighted cells; experiments sharing a ``group`` never overlap."""

    id: Label
    seed: str = Field(min_length=1, max_length=64)
    group: str | None = None
    cells: tuple[Cell, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights(self) -> Experiment:
        if sum(c.weight for c in self.cells) <= 0:
            raise ValueError("an experiment needs cells with positive total weight")
        return self


class PricingPolicy(Strict):
    version: Annotated[int, Field(ge=1)]
    guardrail: Guardrail
    segment_rules: tuple[SegmentRule, ...] = ()
    markdowns: tuple[MarkdownStage, ...] = ()
    experiments: tuple[Experiment, ...] = ()
