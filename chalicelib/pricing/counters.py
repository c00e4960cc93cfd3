"""What a booking, a till sale and a first visit add to the studio's offer counters: per cohort (units, list value,
revenue, cost), per pop-up and local day (the same four, so the numbers can be read for a date range and
a pop-up) and per experiment cell (visitors assigned, bookings, till sales, and their units, revenue
and cost). Pure: the store adds them in the same write as what they count, and the numbers read them back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

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


CELL_METRICS = {"units": "cellunits", "paid": "cellpaid", "cost": "cellcost"}
"""What each experiment cell also counts of the lines its visitors bought: units, revenue and cost."""
DAY_METRICS = {"units": "dayunits", "list": "daylist", "paid": "daypaid", "cost": "daycost"}
"""What each pop-up counts per local day: ``<metric>@<pop-up>@<date>@<currency>``."""


@dataclass(frozen=True)
class PlaceDay:
    """Where and on which local day a sale counts: the pickup pop-up on the booking's day, or the
    till's pop-up on the sale's."""

    popup: str
    day: date


def _line_counts(lines: Iterable[SoldLine], currency: str, cells: Iterable[str], where: PlaceDay) -> dict[str, int]:
    """Per cohort, and per pop-up and day, the lines' units, list value, revenue and cost (minor
    units of ``currency``); per experiment cell, their units, revenue and cost."""
    counts: dict[str, int] = {}
    cells = tuple(cells)

    def add(name: str, value: int) -> None:
        counts[name] = counts.get(name, 0) + value

    for line in lines:
        values = {
            "units": line.qty,
            "list": line.list_minor * line.qty,
            "paid": line.paid_minor,
            "cost": line.cost_minor * line.qty,
        }
        for metric, value in values.items():
            add(f"{metric}@{line.cohort}@{currency}", value)
            add(f"{DAY_METRICS[metric]}@{where.popup}@{where.day.isoformat()}@{currency}", value)
        for cell in cells:
            for metric, counter in CELL_METRICS.items():
                add(f"{counter}@{cell}@{currency}", values[metric])
    return counts


def booking_counts(lines: Iterable[SoldLine], currency: str, cells: Iterable[str], where: PlaceDay) -> dict[str, int]:
    """The counters one booking adds: its lines' (``_line_counts``), and per experiment cell the
    visitor is in, one conversion."""
    cells = tuple(cells)
    counts = _line_counts(lines, currency, cells, where)
    for cell in cells:
        counts[f"booked@{cell}"] = 1
    return counts


def exposure_counts(cells: Iterable[str]) -> dict[str, int]:
    """A new visitor's assignment: one more in the sample of each cell they fell into."""
    return {f"seen@{cell}": 1 for cell in cells}


def till_sale_counts(line: SoldLine, currency: str, cells: Iterable[str], where: PlaceDay) -> dict[str, int]:
    """What a till sale adds: its line under its cohort, as a booking's lines are; and, per cell
    the shopper was in (known when the sale followed their try-on), one sale."""
    cells = tuple(cells)
    counts = _line_counts([line], currency, cells, where)
    for cell in cells:
        counts[f"sold@{cell}"] = 1
    return counts
