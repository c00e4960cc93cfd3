"""A drop's numbers for the studio, as tables: each feeds one server-rendered chart and one CSV.

Pure: the inputs are counters already read from the store. Money stays in integer minor units;
ratios are basis points (1 % = 100 bps), so nothing here is a float until a chart scales it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.stock.ports import Counter
from chalicelib.tryon.ports import FunnelStep

SOLD_COUNTERS = (Counter.BOOKED.value, Counter.TILL_SOLD.value)


@dataclass(frozen=True)
class Table:
    """A chart's data: a title, column names and rows (the first column labels the row)."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | int, ...], ...]


def _bps(part: int, whole: int) -> int:
    return part * 10_000 // whole if whole > 0 else 0


# --- the tables ---------------------------------------------------------------------------------


def sell_through(
    days: Mapping[tuple[str, str, str], Mapping[str, int]], on_hand: Mapping[tuple[str, str], int]
) -> Table:
    """Per SKU and location, per local day: units sold that day (booked and at the till) and the
    cumulative sell-through against the units made for that place."""
    rows = []
    running: dict[tuple[str, str], int] = {}
    for sku, location, day in sorted(days, key=lambda key: (key[0], key[1], key[2])):
        sold = sum(days[(sku, location, day)].get(counter, 0) for counter in SOLD_COUNTERS)
        running[(sku, location)] = running.get((sku, location), 0) + sold
        made = on_hand.get((sku, location), 0)
        rows.append((f"{sku}@{location}", day, sold, made, _bps(running[(sku, location)], made)))
    return Table(
        "sell-through",
        "Sell-through per SKU and location, per day",
        ("sku_location", "day", "units_sold", "units_made", "cumulative_sell_through_bps"),
        tuple(rows),
    )


FUNNEL_WORDS = {
    FunnelStep.SCAN: "QR scans",
    FunnelStep.TRYON_REQUESTED: "try-ons asked for",
    FunnelStep.TRYON_COMPLETED: "try-ons done",
    FunnelStep.BOOKED_AFTER_TRYON: "booked after trying on",
    FunnelStep.SOLD_AFTER_TRYON: "sold after trying on",
}
"""Each funnel step as the studio's chart and CSV name it."""


def qr_funnel(funnel: Mapping[tuple[str, str, str], Mapping[str, int]]) -> Table:
    """Each funnel step summed over SKUs and days, per pop-up."""
    totals: dict[str, dict[str, int]] = {}
    for (_, popup, _), steps in funnel.items():
        place = totals.setdefault(popup, {})
        for step, count in steps.items():
            place[step] = place.get(step, 0) + count
    rows = tuple(
        (popup, FUNNEL_WORDS[step], totals[popup].get(step.value, 0)) for popup in sorted(totals) for step in FunnelStep
    )
    return Table("qr-funnel", "QR funnel per pop-up", ("popup", "step", "count"), rows)


def _by_metric(counts: Mapping[str, int], metrics: Iterable[str]) -> dict[str, dict[str, int]]:
    """``{"<metric>@<key>": n}`` → ``{key: {metric: n}}`` for the wanted metrics."""
    wanted = set(metrics)
    grouped: dict[str, dict[str, int]] = {}
    for name, value in counts.items():
        metric, _, key = name.partition("@")
        if metric in wanted and key:
            grouped.setdefault(key, {})[metric] = value
    return grouped


def discount_depth(counts: Mapping[str, int]) -> Table:
    """Per cohort and currency: how deep the discount went (share of list value given away) and how
    much of the full-price margin the sales kept ("margin recovered")."""
    rows = []
    for key, m in sorted(_by_metric(counts, ("units", "list", "paid", "cost")).items()):
        cohort, _, currency = key.rpartition("@")
        given = m.get("list", 0) - m.get("paid", 0)
        full_margin = m.get("list", 0) - m.get("cost", 0)
        kept = m.get("paid", 0) - m.get("cost", 0)
        rows.append((cohort, currency, m.get("units", 0), _bps(given, m.get("list", 0)), _bps(kept, full_margin)))
    return Table(
        "discount-depth",
        "Discount depth against margin recovered, per cohort",
        ("cohort", "currency", "units", "discount_depth_bps", "margin_recovered_bps"),
        tuple(rows),
    )


def cell_conversion(counts: Mapping[str, int]) -> Table:
    """Per experiment cell: visitors assigned (the sample), their bookings and their till sales
    after a try-on, and the rate of both over the sample."""
    rows = []
    for cell, m in sorted(_by_metric(counts, ("seen", "booked", "sold")).items()):
        seen, booked, sold = m.get("seen", 0), m.get("booked", 0), m.get("sold", 0)
        rows.append((cell, seen, booked, sold, _bps(booked + sold, seen)))
    return Table(
        "cell-conversion",
        "Conversion per experiment cell",
        ("cell", "visitors", "bookings", "till_sales", "conversion_bps"),
        tuple(rows),
    )
