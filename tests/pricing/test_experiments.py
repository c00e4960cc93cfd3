from __future__ import annotations

import math
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.pricing.experiments import assign, cell_for, pricing_cell, urgency
from chalicelib.pricing.policy import Cell, Experiment

WEIGHTED = Experiment(
    id="depth",
    seed="s-1",
    cells=(Cell(name="control", weight=50), Cell(name="a", weight=30), Cell(name="b", weight=20)),
)


def test_sample_ratio_over_ten_thousand_ids() -> None:
    counts = Counter(cell_for(f"visitor-{i:05d}", WEIGHTED).name for i in range(10_000))
    expected = {"control": 5000, "a": 3000, "b": 2000}
    chi_square = sum((counts[name] - n) ** 2 / n for name, n in expected.items())
    assert chi_square < 13.8, counts  # p > 0.001 with 2 degrees of freedom: no sample-ratio mismatch
    for name, n in expected.items():
        assert abs(counts[name] - n) < 4 * math.sqrt(n)


@given(st.text(min_size=8, max_size=40))
def test_cells_are_stable_for_a_visitor(visitor: str) -> None:
    assert assign(visitor, [WEIGHTED]) == assign(visitor, [WEIGHTED])


def test_experiments_in_a_group_never_overlap_and_split_traffic() -> None:
    one = Experiment(id="one", seed="x", group="launch", cells=(Cell(name="c", weight=1),))
    two = Experiment(id="two", seed="y", group="launch", cells=(Cell(name="c", weight=1),))
    free = Experiment(id="free", seed="z", cells=(Cell(name="c", weight=1),))
    seen: Counter[str] = Counter()
    for i in range(4000):
        experiments = {a.experiment for a in assign(f"v{i}", [one, two, free])}
        assert "free" in experiments and len(experiments & {"one", "two"}) == 1
        seen.update(experiments & {"one", "two"})
    assert abs(seen["one"] - 2000) < 200


def test_the_pricing_cell_and_urgency_come_from_the_assignments() -> None:
    priced = Experiment(id="b-depth", seed="p", cells=(Cell(name="five", weight=1, discount_bps=500),))
    copy = Experiment(id="a-copy", seed="q", cells=(Cell(name="scarce", weight=1, urgency="scarcity"),))
    assignments = assign("visitor-1", [priced, copy])
    chosen = pricing_cell(assignments)
    assert chosen is not None and chosen.label == "b-depth:five"
    assert urgency(assignments) == "scarcity"
