"""The queue's arithmetic: shoppers are let in in the order they came, never faster than the rate,
never before the opening, and capacity nobody used is not saved up for a later crowd."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.models import WaitingRoom
from chalicelib.waiting.room import frontier, place, progress, rank

OPENS = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
T0 = int(OPENS.timestamp())

arrivals = st.dictionaries(st.integers(T0 - 900, T0 + 600), st.integers(1, 500), max_size=40)
rates = st.integers(10, 6000)
offsets = st.floats(-900, 900, allow_nan=False)


def at(seconds: float) -> datetime:
    return OPENS + timedelta(seconds=seconds)


@given(arrivals, rates, offsets)
def test_never_more_in_than_came_or_than_the_rate_allows(
    counts: dict[int, int], per_minute: int, offset: float
) -> None:
    now = at(offset)
    came = sum(n for second, n in counts.items() if second < now.timestamp())
    let_in = frontier(counts, OPENS, per_minute, now)
    assert 0 <= let_in <= came
    assert let_in <= max(0.0, offset) * per_minute / 60 + 1e-4  # epoch floats: microseconds blur


@given(arrivals, rates, offsets, st.floats(0, 600, allow_nan=False))
def test_the_frontier_only_moves_forward(counts: dict[int, int], per_minute: int, offset: float, later: float) -> None:
    assert frontier(counts, OPENS, per_minute, at(offset)) <= frontier(counts, OPENS, per_minute, at(offset + later))


@given(arrivals, rates, st.floats(0, 900, allow_nan=False), st.integers(0, 1_500_000), st.integers(0, 1_500_000))
def test_whoever_came_first_is_let_in_first(
    counts: dict[int, int], per_minute: int, offset: float, first: int, second: int
) -> None:
    room, now = WaitingRoom(admit_per_minute=per_minute), at(offset)
    earlier, later = sorted((T0 * 1000 - 900_000 + first, T0 * 1000 - 900_000 + second))
    if place(counts, later, room, OPENS, now).admitted:
        assert place(counts, earlier, room, OPENS, now).admitted


@given(arrivals, rates, st.integers(0, 1_500_000), st.floats(0, 600, allow_nan=False))
def test_the_promised_wait_is_kept_when_nobody_else_is_ahead(
    counts: dict[int, int], per_minute: int, issued: int, offset: float
) -> None:
    """Once the estimated wait has passed, the ticket is in (arrivals after it never delay it)."""
    room, now = WaitingRoom(admit_per_minute=per_minute), at(offset)
    issued_ms = T0 * 1000 - 900_000 + issued
    if issued_ms > now.timestamp() * 1000:
        return
    before = {second: n for second, n in counts.items() if second <= issued_ms // 1000}
    where = place(before, issued_ms, room, OPENS, now)
    if not where.admitted:
        assert place(before, issued_ms, room, OPENS, now + timedelta(seconds=where.wait_seconds)).admitted


def test_nobody_is_let_in_before_the_opening() -> None:
    counts = {T0 - 60: 5}
    assert frontier(counts, OPENS, 600, at(-1)) == 0
    assert not place(counts, (T0 - 60) * 1000, WaitingRoom(admit_per_minute=600), OPENS, at(-1)).admitted
    assert place(counts, (T0 - 60) * 1000, WaitingRoom(admit_per_minute=600), OPENS, at(0.2)).admitted


def test_capacity_left_unused_is_not_saved_for_a_crowd() -> None:
    """Ten quiet minutes at 60 a minute, then 1,000 at once: a second later about one is in, not 600."""
    counts = {T0 + 600: 1000}
    assert frontier(counts, OPENS, 60, at(601)) == 1.0


def test_a_lone_shopper_walks_straight_in() -> None:
    issued_ms = (T0 + 30) * 1000 + 400
    where = place({}, issued_ms, WaitingRoom(admit_per_minute=300), OPENS, at(30.4))
    assert where.admitted


def test_the_place_counts_who_is_ahead_and_how_long_they_take() -> None:
    counts = {T0 - 10: 100}  # a hundred before the opening, spread over that second
    issued_ms = (T0 - 9) * 1000  # the next second: after all of them
    where = place(counts, issued_ms, WaitingRoom(admit_per_minute=60), OPENS, at(10))
    assert not where.admitted
    assert where.ahead == 90  # 10 let in at one a second
    assert where.wait_seconds == 91
    assert rank(counts, issued_ms) == 100


def test_progress_runs_from_arrival_to_the_front() -> None:
    assert progress(199, 199) == 0.0
    assert progress(199, 49) == 0.75
    assert progress(0, 0) == 0.0  # next in line on arrival, and still waiting
    assert progress(10, 20) == 0.0
