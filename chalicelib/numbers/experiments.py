"""Experiment results a marketer can decide on: per cell, the visitors, bookings, till sales, units,
revenue and margin; conversion with its 95 % interval; a check that the split is working (sample
ratio mismatch); and a verdict in words. Pure: counters in, records out.

The statistics are written out here rather than taken from scipy or statsmodels: scipy's wheel
alone is 35 MB zipped (139 MB unpacked, numpy 66 MB more), and the Lambda package has 0.4 MB left
of its 15 MB budget. They are the textbook ones, and the tests hold them against scipy's: Wilson's
score interval for a rate, Newcombe's hybrid score interval for a difference of two rates, and
Pearson's chi-square test of the visitors per cell against the cells' weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chalicelib.pricing.counters import CELL_METRICS
from chalicelib.pricing.policy import Experiment

Z_95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval."""
MIN_VISITORS = 100
"""Below this many visitors in a cell, a verdict would be noise."""
MIN_CONVERSIONS = 10
"""...or below this many conversions in the whole experiment."""
SRM_P = 0.001
"""A split this unlikely under the weights is taken as broken (the usual, conservative threshold)."""


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for a proportion (0 to 1; ``(0, 1)`` with no trials)."""
    if trials <= 0:
        return 0.0, 1.0
    rate = successes / trials
    denominator = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    spread = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


def difference_interval(a: tuple[int, int], b: tuple[int, int], z: float = Z_95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for rate(b) − rate(a); each is (successes, trials)."""
    (hits_a, n_a), (hits_b, n_b) = a, b
    rate_a, rate_b = hits_a / n_a, hits_b / n_b
    low_a, high_a = wilson(hits_a, n_a, z)
    low_b, high_b = wilson(hits_b, n_b, z)
    difference = rate_b - rate_a
    return (
        difference - math.sqrt((rate_b - low_b) ** 2 + (high_a - rate_a) ** 2),
        difference + math.sqrt((high_b - rate_b) ** 2 + (rate_a - low_a) ** 2),
    )


def _upper_gamma_regularized(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a): a series below a + 1, a continued fraction above (Numerical Recipes)."""
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        n = a
        while abs(term) > abs(total) * 1e-15:
            n += 1
            term *= x / n
            total += term
        return max(0.0, 1 - total * math.exp(log_prefix))
    tiny = 1e-300
    b, c, d = x + 1 - a, 1 / tiny, 1 / (x + 1 - a)
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)


def chi_square_sf(statistic: float, degrees: int) -> float:
    """P(χ² ≥ ``statistic``) with ``degrees`` degrees of freedom."""
    return _upper_gamma_regularized(degrees / 2, statistic / 2)


def sample_ratio(visitors: Sequence[int], weights: Sequence[int]) -> tuple[float, float]:
    """Pearson's chi-square of the visitors per cell against the split the weights ask for, and its
    p-value (1.0 when there is nothing to test)."""
    total, weight = sum(visitors), sum(weights)
    cells = [(seen, w) for seen, w in zip(visitors, weights, strict=True) if w > 0]
    if total == 0 or len(cells) < 2:
        return 0.0, 1.0
    statistic = sum((seen - total * w / weight) ** 2 / (total * w / weight) for seen, w in cells)
    return statistic, chi_square_sf(statistic, len(cells) - 1)


@dataclass(frozen=True, slots=True)
class CellResult:
    cell: str
    weight: int
    visitors: int
    bookings: int
    till_sales: int
    units: int
    revenue_minor: dict[str, int]  # per currency
    margin_minor: dict[str, int]
    conversion: float  # (bookings + till sales) / visitors
    interval: tuple[float, float]


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    experiment: str
    cells: tuple[CellResult, ...]
    srm_p: float
    verdicts: tuple[str, ...]


def _points(rate: float) -> str:
    return f"{rate * 100:+.1f}"


def _verdicts(cells: Sequence[CellResult], srm_p: float) -> tuple[str, ...]:
    if srm_p < SRM_P:
        return (
            f"The split looks broken: the visitors per cell are far from the weights (p = {srm_p:.2g}). "
            "Find out why before reading the results.",
        )
    conversions = sum(c.bookings + c.till_sales for c in cells)
    if len(cells) < 2 or min(c.visitors for c in cells) < MIN_VISITORS or conversions < MIN_CONVERSIONS:
        return (
            f"Not enough data yet: a verdict needs {MIN_VISITORS} visitors in every cell and "
            f"{MIN_CONVERSIONS} conversions in all.",
        )
    control, said = cells[0], []
    for cell in cells[1:]:
        low, high = difference_interval(
            (control.bookings + control.till_sales, control.visitors), (cell.bookings + cell.till_sales, cell.visitors)
        )
        span = f"{_points(low)} to {_points(high)} points, 95 % interval"
        if low > 0:
            said.append(f"{cell.cell} ahead of {control.cell}: the interval excludes zero ({span}).")
        elif high < 0:
            said.append(f"{cell.cell} behind {control.cell}: the interval excludes zero ({span}).")
        else:
            said.append(f"No clear difference between {cell.cell} and {control.cell} yet ({span}).")
    return tuple(said)


def _by_cell(counts: Mapping[str, int]) -> dict[str, dict[str, dict[str, int]]]:
    """The per-cell money and units counters (``<counter>@<experiment:cell>@<currency>``), as
    ``{cell label: {counter: {currency: n}}}``."""
    grouped: dict[str, dict[str, dict[str, int]]] = {}
    cell_counters = set(CELL_METRICS.values())
    for name, value in counts.items():
        counter, _, rest = name.partition("@")
        label, _, currency = rest.rpartition("@")
        if counter in cell_counters and label:
            grouped.setdefault(label, {}).setdefault(counter, {})[currency] = value
    return grouped


def experiment_results(experiments: Sequence[Experiment], counts: Mapping[str, int]) -> tuple[ExperimentResult, ...]:
    """Each experiment's cells from the studio's counters (``pricing.counters``); the first cell is
    the control the others are compared with."""
    money = _by_cell(counts)
    results = []
    for experiment in experiments:
        cells = []
        for cell in experiment.cells:
            label = f"{experiment.id}:{cell.name}"
            seen = counts.get(f"seen@{label}", 0)
            booked, sold = counts.get(f"booked@{label}", 0), counts.get(f"sold@{label}", 0)
            metrics = money.get(label, {})
            paid, cost = metrics.get(CELL_METRICS["paid"], {}), metrics.get(CELL_METRICS["cost"], {})
            units = sum(metrics.get(CELL_METRICS["units"], {}).values())
            margin = {currency: amount - cost.get(currency, 0) for currency, amount in paid.items()}
            rate = (booked + sold) / seen if seen else 0.0
            interval = wilson(min(booked + sold, seen), seen)
            cells.append(CellResult(cell.name, cell.weight, seen, booked, sold, units, paid, margin, rate, interval))
        _, p = sample_ratio([c.visitors for c in cells], [c.weight for c in cells])
        results.append(ExperimentResult(experiment.id, tuple(cells), p, _verdicts(cells, p)))
    return tuple(results)
