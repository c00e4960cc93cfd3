"""The "was" price: the lowest list price of the prior 30 days, whatever the changes before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.pricing.reference import KEPT_CHANGES, REFERENCE_DAYS, reference_minor, with_change

START = datetime(2030, 1, 1, tzinfo=UTC)
changes = st.lists(st.tuples(st.integers(1, 90 * 24), st.integers(1, 100_000)), max_size=KEPT_CHANGES)


@given(st.integers(1, 100_000), changes, st.integers(0, 120 * 24))
def test_the_reference_is_the_lowest_price_in_effect_during_the_window(
    first: int, steps: list[tuple[int, int]], later_hours: int
) -> None:
    """Brute force: walk the price hour by hour and take the lowest one the window saw."""
    history: dict[str, tuple[tuple[datetime, int], ...]] = {}
    price, at, timeline = first, START, [(START, first)]
    for hours, new in steps:
        at += timedelta(hours=hours)
        history = with_change(history, {"EUR": price}, {"EUR": new}, at)
        price = new
        timeline.append((at, new))
    now = at + timedelta(hours=later_hours)
    since = now - timedelta(days=REFERENCE_DAYS)
    in_window = [
        p
        for (t, p), nxt in zip(timeline, [*timeline[1:], (None, None)], strict=True)
        if nxt[0] is None or nxt[0] > since
    ]
    expected = min(in_window)
    got = reference_minor(price, history.get("EUR", ()), now)
    assert got == expected
    assert got <= price


def test_a_price_raised_before_a_sale_strikes_the_old_price_not_the_raised_one() -> None:
    raised = with_change({}, {"EUR": 8000}, {"EUR": 10000}, START)
    assert reference_minor(10000, raised["EUR"], START + timedelta(days=1)) == 8000  # 20 % off 100 is no saving
    assert reference_minor(10000, raised["EUR"], START + timedelta(days=REFERENCE_DAYS, seconds=1)) == 10000


def test_an_unchanged_price_keeps_no_history_and_old_changes_are_dropped() -> None:
    assert with_change({}, {"EUR": 5000, "USD": 5500}, {"EUR": 5000, "USD": 5500}, START) == {}
    old = with_change({}, {"EUR": 4000}, {"EUR": 5000}, START)
    later = with_change(old, {"EUR": 5000, "USD": 5500}, {"EUR": 5000, "USD": 6000}, START + timedelta(days=40))
    assert later == {"USD": ((START + timedelta(days=40), 5500),)}
