"""Pickup slot arithmetic: pure, checked across clock changes and with hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.errors import Unprocessable
from chalicelib.core.models import Location, PickupSchedule
from chalicelib.stock.slots import bookable_slot, day_slots

ZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC")


def popup(
    zone: str,
    opens: time,
    closes: time,
    minutes: int = 30,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> tuple[Location, PickupSchedule]:
    schedule = PickupSchedule(opens=opens, closes=closes, slot_minutes=minutes, capacity=3)
    location = Location(
        id="p", kind="popup", name={"en": "P"}, timezone=zone, pickup=schedule, opens_at=opens_at, closes_at=closes_at
    )
    return location, schedule


def local_labels(zone: str, starts: list[datetime]) -> list[str]:
    return [s.astimezone(ZoneInfo(zone)).strftime("%H:%M%z") for s in starts]


def test_an_autumn_night_that_repeats_an_hour_has_both() -> None:
    location, schedule = popup("Europe/Paris", time(0), time(4))
    slots = day_slots(location, schedule, date(2026, 10, 25))
    assert len(slots) == 10  # five real hours between local midnight and 04:00
    assert local_labels("Europe/Paris", [s.start for s in slots]) == [
        "00:00+0200", "00:30+0200", "01:00+0200", "01:30+0200", "02:00+0200",
        "02:30+0200", "02:00+0100", "02:30+0100", "03:00+0100", "03:30+0100",
    ]  # fmt: skip


def test_a_spring_morning_loses_the_hour_that_never_happens() -> None:
    location, schedule = popup("Europe/Paris", time(0), time(4))
    slots = day_slots(location, schedule, date(2026, 3, 29))
    assert local_labels("Europe/Paris", [s.start for s in slots]) == [
        "00:00+0100", "00:30+0100", "01:00+0100", "01:30+0100", "03:00+0200", "03:30+0200",
    ]  # fmt: skip


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1), date(2026, 7, 4)])
def test_daytime_hours_keep_their_local_times_across_dst(day: date) -> None:
    location, schedule = popup("America/New_York", time(10), time(18), 60)
    slots = day_slots(location, schedule, day)
    assert [s.start.astimezone(ZoneInfo("America/New_York")).hour for s in slots] == list(range(10, 18))


def test_the_opening_window_clips_the_day_on_slot_boundaries() -> None:
    opens_at = datetime(2026, 11, 24, 11, 10, tzinfo=UTC)  # 12:10 in Paris
    closes_at = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 16:00 in Paris
    location, schedule = popup("Europe/Paris", time(10), time(20), opens_at=opens_at, closes_at=closes_at)
    slots = day_slots(location, schedule, date(2026, 11, 24))
    assert local_labels("Europe/Paris", [slots[0].start, slots[-1].start]) == ["12:30+0100", "15:30+0100"]
    assert day_slots(location, schedule, date(2026, 11, 25)) == []


@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    opens_minutes=st.integers(min_value=0, max_value=22 * 60),
    length_minutes=st.integers(min_value=15, max_value=12 * 60),
    slot_minutes=st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90, 120]),
)
def test_slots_tile_the_real_opening_time(
    zone: str, day: date, opens_minutes: int, length_minutes: int, slot_minutes: int
) -> None:
    closes_minutes = min(opens_minutes + length_minutes, 23 * 60 + 59)
    opens, closes = (time(m // 60, m % 60) for m in (opens_minutes, closes_minutes))
    location, schedule = popup(zone, opens, closes, slot_minutes)
    slots = day_slots(location, schedule, day)
    tz = ZoneInfo(zone)
    first = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
    last = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
    assert len(slots) == (last - first) // timedelta(minutes=slot_minutes)
    for earlier, later in pairwise(slots):
        assert later.start == earlier.end  # contiguous, in order, no repeats
    for slot in slots:
        assert slot.end - slot.start == timedelta(minutes=slot_minutes)
        assert first <= slot.start and slot.end <= last
        assert slot.start.tzinfo is UTC


def test_only_real_future_slots_can_be_booked() -> None:
    location, _ = popup("Europe/Paris", time(10), time(20))
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    tomorrow = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert bookable_slot(location, tomorrow, now).start == tomorrow.astimezone(UTC)
    for start, code in [
        (datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Paris")), "slot_in_past"),
        (datetime(2026, 11, 24, 10, 30, tzinfo=ZoneInfo("Europe/Paris")), "slot_in_past"),  # inside the lead time
        (datetime(2026, 11, 25, 10, 15, tzinfo=ZoneInfo("Europe/Paris")), "not_a_slot"),
        (datetime(2026, 11, 25, 20, 0, tzinfo=ZoneInfo("Europe/Paris")), "not_a_slot"),
    ]:
        with pytest.raises(Unprocessable) as refused:
            bookable_slot(location, start, now)
        assert refused.value.code == code
    web = Location(id="web", kind="web", name={"en": "Web"}, timezone="UTC")
    with pytest.raises(Unprocessable) as no_pickup:
        bookable_slot(web, tomorrow, now)
    assert no_pickup.value.code == "no_pickup"
