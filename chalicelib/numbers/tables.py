"""A drop's numbers for the studio, as tables: each feeds one server-rendered chart and one CSV.

Pure: the inputs are counters already read from the store. Money stays in integer minor units;
ratios are basis points (1 % = 100 bps), so nothing here is a float until a chart scales it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.pricing.counters import DAY_METRICS
from chalicelib.stock.counters import Counter
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


def footfall(entered: Mapping[tuple[str, str], int], days: Mapping[tuple[str, str, str], Mapping[str, int]]) -> Table:
    """Per pop-up and local day: people through the door, units sold at its till, and conversion
    (the one over the other), the signals a pop-up's markdown stage reads."""
    till: dict[tuple[str, str], int] = {}
    for (_, location, day), counted in days.items():
        till[(location, day)] = till.get((location, day), 0) + counted.get(Counter.TILL_SOLD.value, 0)
    rows = tuple(
        (popup, day, people, till.get((popup, day), 0), _bps(till.get((popup, day), 0), people))
        for (popup, day), people in sorted(entered.items())
    )
    return Table(
        "footfall",
        "Footfall and conversion at the till per pop-up, per day",
        ("popup", "day", "footfall", "units_sold_at_the_till", "conversion_bps"),
        rows,
    )


def _sold(days: Mapping[tuple[str, str, str], Mapping[str, int]]) -> dict[tuple[str, str], int]:
    """Units sold per (SKU, location), all days: booked and at the till."""
    sold: dict[tuple[str, str], int] = {}
    for (sku, location, _), counters in days.items():
        sold[(sku, location)] = sold.get((sku, location), 0) + sum(counters.get(c, 0) for c in SOLD_COUNTERS)
    return sold


def return_rates(
    counts: Mapping[str, int], days: Mapping[tuple[str, str, str], Mapping[str, int]], packaging: Mapping[str, str]
) -> tuple[Table, Table]:
    """The return rate within 30 days of the sale: per SKU, packaging variant and pop-up, and per
    packaging variant; units returned (the studio's counters) over units sold (the stock's)."""
    returned: dict[tuple[str, str, str], int] = {}
    for key, m in _by_metric(counts, ("returned",)).items():
        sku, pack, popup = key.split("#", 2)
        returned[(sku, pack, popup)] = m["returned"]
    sold = _sold(days)
    places = {(sku, packaging.get(sku, "standard"), location) for sku, location in sold if location != "web"}
    rows = []
    by_pack: dict[str, list[int]] = {}
    for sku, pack, popup in sorted(places | set(returned)):
        units, back = sold.get((sku, popup), 0), returned.get((sku, pack, popup), 0)
        rows.append((f"{sku} at {popup}", pack, units, back, _bps(back, units)))
        totals = by_pack.setdefault(pack, [0, 0])
        totals[0], totals[1] = totals[0] + units, totals[1] + back
    return (
        Table(
            "returns",
            "Return rate within 30 days, per SKU and pop-up",
            ("sku_popup", "packaging", "units_sold", "returned_within_30_days", "return_rate_bps"),
            tuple(rows),
        ),
        Table(
            "returns-by-packaging",
            "Return rate within 30 days, per packaging variant",
            ("packaging", "units_sold", "returned_within_30_days", "return_rate_bps"),
            tuple((pack, units, back, _bps(back, units)) for pack, (units, back) in sorted(by_pack.items())),
        ),
    )


def return_reasons(counts: Mapping[str, int], words: Mapping[str, str]) -> Table:
    """Units returned per reason, in words, most first."""
    given = {reason: m["reason"] for reason, m in _by_metric(counts, ("reason",)).items()}
    rows = sorted(((words.get(reason, reason), units) for reason, units in given.items()), key=lambda r: -r[1])
    return Table("return-reasons", "Why pieces came back", ("reason", "units"), tuple(rows))


def customers(counts: Mapping[str, int], costs: Mapping[str, tuple[int, str]]) -> Table:
    """Per pop-up: the customers who bought there (new: their first purchase anywhere; returning:
    they had bought before), their purchases there, purchases per customer in hundredths (how often
    its attendees buy), and, where the studio recorded what the pop-up cost (``costs``: minor units
    and currency), the cost per new customer."""
    seen = _by_metric(counts, ("customers", "customers_new", "customers_returning", "customer_purchases"))
    rows = []
    for popup in sorted(set(seen) | set(costs)):
        m = seen.get(popup, {})
        people, new, purchases = m.get("customers", 0), m.get("customers_new", 0), m.get("customer_purchases", 0)
        cost, currency = costs.get(popup, (0, ""))
        per_customer = purchases * 100 // people if people else 0
        rows.append(
            (
                popup,
                new,
                m.get("customers_returning", 0),
                purchases,
                per_customer,
                currency,
                cost,
                cost // new if new else 0,
            )
        )
    return Table(
        "customers",
        "New customers per pop-up",
        (
            "popup",
            "new_customers",
            "returning_customers",
            "purchases",
            "purchases_per_customer_x100",
            "currency",
            "popup_cost_minor",
            "cost_per_new_customer_minor",
        ),
        tuple(rows),
    )


@dataclass(frozen=True)
class Headline:
    """The drop so far, in the figures a merchant reads first (the numbers page's tiles)."""

    revenue_minor: Mapping[str, int]  # per currency
    units: int
    sell_through_bps: int
    discount_bps: int  # average depth, weighted by units over the currencies
    margin_recovered_bps: int
    tryon_bps: int  # try-ons asked for per QR scan
    return_bps: int  # returned within 30 days per unit sold


def headline(
    counts: Mapping[str, int],
    days: Mapping[tuple[str, str, str], Mapping[str, int]],
    made: Mapping[tuple[str, str], int],
    funnel: Mapping[tuple[str, str, str], Mapping[str, int]],
) -> Headline:
    """The tiles' figures from the counters the tables read: the sales' money per pop-up and day,
    the stock's day counters (units sold and returned) and units made, and the QR funnel; each as
    scoped (``numbers.scope``), so the tiles follow the page's date range and pop-up."""
    per_currency: dict[str, dict[str, int]] = {}
    named = {counter: metric for metric, counter in DAY_METRICS.items()}
    for key, m in _by_metric(counts, named).items():  # <pop-up>@<date>@<currency>: what is in scope
        totals = per_currency.setdefault(key.rpartition("@")[2], {})
        for counter, value in m.items():
            totals[named[counter]] = totals.get(named[counter], 0) + value
    units = sum(m.get("units", 0) for m in per_currency.values())

    def weighted(part: str, whole: str) -> int:
        """A ratio per currency (``part`` over ``whole``, each a difference of metrics), averaged
        over the currencies by their units: amounts in different currencies never add up."""
        shares = 0
        for m in per_currency.values():
            spent = {"given": m.get("list", 0) - m.get("paid", 0), "kept": m.get("paid", 0) - m.get("cost", 0)}
            wholes = {"list": m.get("list", 0), "full": m.get("list", 0) - m.get("cost", 0)}
            shares += _bps(spent[part], wholes[whole]) * m.get("units", 0)
        return shares // units if units else 0

    sold = sum(_sold(days).values())
    steps = {step: 0 for step in (FunnelStep.SCAN.value, FunnelStep.TRYON_REQUESTED.value)}
    for counted in funnel.values():
        for step in steps:
            steps[step] += counted.get(step, 0)
    returned = sum(counted.get(Counter.RETURNED.value, 0) for counted in days.values())
    return Headline(
        revenue_minor={currency: m.get("paid", 0) for currency, m in sorted(per_currency.items())},
        units=units,
        sell_through_bps=_bps(sold, sum(made.values())),
        discount_bps=weighted("given", "list"),
        margin_recovered_bps=weighted("kept", "full"),
        tryon_bps=_bps(steps[FunnelStep.TRYON_REQUESTED.value], steps[FunnelStep.SCAN.value]),
        return_bps=_bps(returned, sold),
    )
