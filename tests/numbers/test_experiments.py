"""The numbers page's statistics, held against scipy's and against published values, and the
verdicts they lead to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from chalicelib.numbers.experiments import chi_square_sf, difference_interval, experiment_results, sample_ratio, wilson
from chalicelib.pricing.counters import SoldLine, booking_counts, exposure_counts, till_sale_counts
from chalicelib.pricing.policy import Cell, Experiment
from tests.numbers.test_tables import PARIS_DAY


@given(st.integers(1, 200_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_is_scipys(trial: tuple[int, int]) -> None:
    successes, trials = trial
    expected = stats.binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(successes, trials) == pytest.approx((expected.low, expected.high), abs=1e-9)


@given(st.floats(0, 2_000, allow_nan=False), st.integers(1, 60))
def test_the_chi_square_tail_is_scipys(statistic: float, degrees: int) -> None:
    assert chi_square_sf(statistic, degrees) == pytest.approx(stats.chi2.sf(statistic, degrees), rel=1e-9, abs=1e-300)


@given(st.lists(st.tuples(st.integers(0, 50_000), st.integers(1, 100)), min_size=2, max_size=6))
def test_the_split_check_is_pearsons_chi_square(cells: list[tuple[int, int]]) -> None:
    visitors, weights = [v for v, _ in cells], [w for _, w in cells]
    if sum(visitors) == 0:
        assert sample_ratio(visitors, weights) == (0.0, 1.0)
        return
    expected = [sum(visitors) * w / sum(weights) for w in weights]
    reference = stats.chisquare(visitors, expected)
    statistic, p = sample_ratio(visitors, weights)
    assert statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert p == pytest.approx(reference.pvalue, rel=1e-6, abs=1e-300)


def test_the_difference_interval_is_newcombes_published_one() -> None:
    """Newcombe (1998), Statistics in Medicine 17:873, table II, method 10."""
    assert difference_interval((48, 80), (56, 70)) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert difference_interval((3, 10), (9, 10)) == pytest.approx((0.1705, 0.8090), abs=5e-5)


DEPTH = Experiment(
    id="launch-depth",
    seed="s",
    cells=(Cell(name="control", weight=50), Cell(name="five-off", weight=50, discount_bps=500)),
)


def counts_for(visitors: tuple[int, int], conversions: tuple[int, int]) -> dict[str, int]:
    counts: dict[str, int] = {}

    def add(more: dict[str, int]) -> None:
        for name, value in more.items():
            counts[name] = counts.get(name, 0) + value

    for cell, seen, converted in zip(("control", "five-off"), visitors, conversions, strict=True):
        label = f"launch-depth:{cell}"
        for _ in range(seen):
            add(exposure_counts([label]))
        for _ in range(converted):
            add(booking_counts([SoldLine("full-price", 1, 10_000, 9_500, 4_000)], "EUR", [label], PARIS_DAY))
    return counts


def test_revenue_margin_and_units_are_counted_per_cell() -> None:
    counts = counts_for((120, 110), (3, 2))
    for name, value in till_sale_counts(
        SoldLine("till", 2, 10_000, 18_000, 4_000), "EUR", ["launch-depth:five-off"], PARIS_DAY
    ).items():
        counts[name] = counts.get(name, 0) + value
    (result,) = experiment_results([DEPTH], counts)
    control, five_off = result.cells
    assert (control.visitors, control.bookings, control.units) == (120, 3, 3)
    assert control.revenue_minor == {"EUR": 28_500} and control.margin_minor == {"EUR": 16_500}
    assert (five_off.bookings, five_off.till_sales, five_off.units) == (2, 1, 4)
    assert five_off.revenue_minor == {"EUR": 2 * 9_500 + 18_000} and five_off.margin_minor == {"EUR": 37_000 - 16_000}
    assert five_off.conversion == pytest.approx(3 / 110)


@pytest.mark.parametrize(
    ("visitors", "conversions", "verdict"),
    [
        ((40, 45), (2, 3), "Not enough data yet"),
        ((1_000, 1_000), (20, 60), "five-off ahead of control: the interval excludes zero"),
        ((1_000, 1_000), (60, 20), "five-off behind control: the interval excludes zero"),
        ((1_000, 1_000), (30, 34), "No clear difference between five-off and control yet"),
        ((1_300, 700), (30, 30), "The split looks broken"),
    ],
)
def test_the_verdict_in_words(visitors: tuple[int, int], conversions: tuple[int, int], verdict: str) -> None:
    (result,) = experiment_results([DEPTH], counts_for(visitors, conversions))
    assert result.verdicts[0].startswith(verdict), result.verdicts
