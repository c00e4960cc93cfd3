"""What a booking, a till sale and a first visit add to the studio's offer counters: per cohort (units, list value,
revenue, cost) and per experiment cell (visitors assigned, bookings). Pure: the store adds them in the
same write as what they count, and the numbers read them back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FULL_PRICE = "full-price"
"""The cohort of a line no rule discounted."""
TILL = "till"
"""The cohort of a till sale staff priced below list (the till knows no visitor's rules)."""


@dataclass(frozen=True)
class SoldLine:
    """One booked line as the numbers see it: which offer priced it, and what it earned."""

    cohort: str  # the rule that set the price (``segment:gold``), or ``full-price``
    qty: int
    list_minor: int
    paid_minor: int
    cost_minor: int


def booking_counts(lines: Iterable[SoldLine], currency: str, cells: Iterable[str]) -> dict[str, int]:
    """The counters one booking adds: per cohort, its units, list value, revenue and cost (minor
    units of ``currency``); per experiment cell the visitor is in, one conversion."""
    counts: dict[str, int] = {}
    for line in lines:
        for metric, value in (
            ("units", line.qty),
            ("list", line.list_minor * line.qty),
            ("paid", line.paid_minor),
            ("cost", line.cost_minor * line.qty),
        ):
            name = f"{metric}@{line.cohort}@{currency}"
            counts[name] = counts.get(name, 0) + value
    for cell in cells:
        counts[f"booked@{cell}"] = 1
    return counts


def exposure_counts(cells: Iterable[str]) -> dict[str, int]:
    """A new visitor's assignment: one more in the sample of each cell they fell into."""
    return {f"seen@{cell}": 1 for cell in cells}


def till_sale_counts(line: SoldLine, currency: str, cells: Iterable[str]) -> dict[str, int]:
    """What a till sale adds: its line under its cohort, as a booking's lines are; and, per cell
    the shopper was in (known when the sale followed their try-on), one sale."""
    counts = booking_counts([line], currency, ())
    for cell in cells:
        counts[f"sold@{cell}"] = 1
    return counts
