"""Pickup slot arithmetic. Pure: no I/O, no clock (``now`` is an argument).

A pop-up's day runs from its local opening time to its local closing time. Slots step through that
span in *elapsed* time, so a day that changes clocks has the slots it really has: a spring-forward
morning loses the hour that never happens, an autumn night that repeats an hour gets both (told
apart by their UTC offsets). Slots are identified by their UTC start.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.core.errors import Unprocessable
from chalicelib.core.models import Location, PickupSchedule


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC

    def local_start(self, zone: ZoneInfo) -> datetime:
        return self.start.astimezone(zone)

    def local_end(self, zone: ZoneInfo) -> datetime:
        return self.end.astimezone(zone)


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant a local wall-clock time names (the earlier one if it repeats; a time skipped by a
    spring-forward resolves to the same offset as just before the gap, which lands after it)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def day_slots(location: Location, schedule: PickupSchedule, day: date) -> list[Slot]:
    """Every slot of ``day`` (the pop-up's local date) inside the pop-up's opening window."""
    zone = ZoneInfo(location.timezone)
    origin = opens = local_instant(day, schedule.opens, zone)
    closes = local_instant(day, schedule.closes, zone)
    if location.opens_at is not None:
        opens = max(opens, location.opens_at)
    if location.closes_at is not None:
        closes = min(closes, location.closes_at)
    return list(_steps(opens, closes, timedelta(minutes=schedule.slot_minutes), origin))


def _steps(opens: datetime, closes: datetime, length: timedelta, origin: datetime) -> Iterator[Slot]:
    """Whole slots in [opens, closes), aligned to ``origin`` (the day's nominal opening)."""
    skipped = max(0, -(-(opens - origin) // length))  # slots cut off by a late opening window
    start = origin + skipped * length
    while start + length <= closes:
        yield Slot(start, start + length)
        start += length


def bookable_slot(location: Location, slot_start: datetime, now: datetime) -> Slot:
    """The slot starting at ``slot_start``, if it exists and can still be booked; else ``Unprocessable``."""
    schedule = location.pickup
    if location.kind != "popup" or schedule is None:
        raise Unprocessable(f"{location.id} does not offer pickup.", code="no_pickup")
    start = slot_start.astimezone(UTC)
    local_day = start.astimezone(ZoneInfo(location.timezone)).date()
    slot = next((s for s in day_slots(location, schedule, local_day) if s.start == start), None)
    if slot is None:
        raise Unprocessable(
            "That time is not a pickup slot: it is outside opening hours or not on a slot boundary.",
            code="not_a_slot",
            details={"slot_start": start.isoformat()},
        )
    if slot.start - timedelta(minutes=schedule.lead_minutes) <= now:
        raise Unprocessable("That pickup slot has already closed.", code="slot_in_past")
    return slot
