"""What the numbers are read for: one pop-up or every place, and a range of local days. Pure.

Each counter the tables read is kept or left out by what it is keyed by: the stock's and the QR
funnel's day counters by place and day, the sales' money per pop-up and day by both, returns and
customers by pop-up only (they keep no day). Counters of the whole drop (cohorts, experiment cells,
return reasons) pass unchanged: the page says which figures they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from chalicelib.pricing.counters import DAY_METRICS

BY_POPUP = frozenset({"customers", "customers_new", "customers_returning", "customer_purchases"})
"""Counters keyed ``<metric>@<pop-up>``."""


@dataclass(frozen=True)
class Scope:
    """One pop-up (None: every place, online too) and the local days from ``first`` to ``last``,
    both included (None: open-ended)."""

    popup: str | None = None
    first: date | None = None
    last: date | None = None

    @property
    def whole_drop(self) -> bool:
        return self.popup is None and self.first is None and self.last is None

    def place(self, location: str) -> bool:
        """Whether a counter kept for ``location`` is in scope."""
        return self.popup is None or location == self.popup

    def holds(self, location: str, day: str) -> bool:
        """Whether a counter of ``location`` on the local date ``day`` is in scope."""
        return self.place(location) and self.day(day)

    def day(self, day: str) -> bool:
        """Whether the local date ``day`` (ISO, as the counters name it) is in the range."""
        return (self.first is None or day >= self.first.isoformat()) and (
            self.last is None or day <= self.last.isoformat()
        )


def scoped_days[Counted](
    days: Mapping[tuple[str, str, str], Counted], scope: Scope
) -> dict[tuple[str, str, str], Counted]:
    """Day counters keyed by (SKU, place, local date) (the stock's) or (SKU, pop-up, local date)
    (the QR funnel's), for the places and days in scope."""
    return {key: counted for key, counted in days.items() if scope.holds(key[1], key[2])}


def scoped_made(made: Mapping[tuple[str, str], int], scope: Scope) -> dict[tuple[str, str], int]:
    """Units made per (SKU, place), for the places in scope (what was made has no day)."""
    return {key: units for key, units in made.items() if scope.place(key[1])}


def scoped_counts(counts: Mapping[str, int], scope: Scope) -> dict[str, int]:
    """The studio's counters in scope (see the module's docstring)."""
    day_metrics = set(DAY_METRICS.values())
    kept = {}
    for name, value in counts.items():
        metric, _, key = name.partition("@")
        if metric in day_metrics:
            popup, day, _ = key.split("@", 2)
            keep = scope.holds(popup, day)
        else:
            owner = _popup_of(metric, key)
            keep = owner is None or scope.place(owner)
        if keep:
            kept[name] = value
    return kept


def _popup_of(metric: str, key: str) -> str | None:
    """The pop-up a counter is kept for; None for a counter of the whole drop."""
    if metric in BY_POPUP:
        return key
    if metric == "returned":
        return key.rpartition("#")[2]  # <sku>#<packaging>#<pop-up>
    return None
