"""When to warm for a drop: from ten minutes before it opens to the end of its first hour, never in
the past, never for an unpublished drop or one whose first hour is over."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.warming.plan import FIRST_HOUR, LEAD, START_MARGIN, warm_window
from devtools.seed import demo_drops

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
DROP = demo_drops(NOW)[0].catalog.drop

offsets = st.integers(-72 * 60, 72 * 60).map(lambda minutes: timedelta(minutes=minutes))


@given(offsets, st.integers(1, 7 * 24 * 60), st.booleans())
def test_the_window_covers_the_launch_and_never_starts_in_the_past(
    start_offset: timedelta, minutes: int, published: bool
) -> None:
    starts = NOW + start_offset
    drop = replace(DROP, starts_at=starts, ends_at=starts + timedelta(minutes=minutes), published=published)
    window = warm_window(drop, NOW)
    first_hour_over = min(starts + FIRST_HOUR, drop.ends_at)
    if not published or first_hour_over <= NOW + START_MARGIN:
        assert window is None
        return
    assert window is not None and window.drop == drop.slug and window.instances > 0
    assert window.starts == max(starts - LEAD, NOW + START_MARGIN) < window.ends == first_hour_over


def test_a_drop_next_week_is_warmed_ten_minutes_ahead_for_its_first_hour() -> None:
    starts = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)
    drop = replace(DROP, starts_at=starts, ends_at=starts + timedelta(days=2), published=True)
    window = warm_window(drop, NOW)
    assert window is not None
    assert (window.starts, window.ends) == (
        datetime(2026, 12, 12, 8, 50, tzinfo=UTC),
        datetime(2026, 12, 12, 10, 0, tzinfo=UTC),
    )
