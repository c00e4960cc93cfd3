"""The pickup's calendar event: RFC 5545 text that any calendar app reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.stock.calendar import PickupEvent, ics

START = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def event(**changes: object) -> PickupEvent:
    fields: dict[str, object] = {
        "code": "V3FSXDBJ",
        "start": START,
        "end": START + timedelta(minutes=30),
        "stamp": START - timedelta(days=1),
        "summary": "Pick up: Linen Lab",
        "location": "Paris · Le Marais, 14 rue Charlot, 75003 Paris",
        "description": "Show booking code V3FSXDBJ at the pop-up.",
        "latitude": 48.8625,
        "longitude": 2.3631,
        **changes,
    }
    return PickupEvent(**fields)  # type: ignore[arg-type]


def unfolded(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_the_event_has_the_slot_in_utc_the_place_and_the_code() -> None:
    lines = unfolded(ics(event()))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "DTSTART:20261203T093000Z" in lines and "DTEND:20261203T100000Z" in lines
    assert "UID:V3FSXDBJ@dropfront" in lines
    assert "LOCATION:Paris · Le Marais\\, 14 rue Charlot\\, 75003 Paris" in lines
    assert "GEO:48.862500;2.363100" in lines


def test_a_start_in_another_zone_is_written_in_utc() -> None:
    paris = START.astimezone(datetime.now().astimezone().tzinfo)
    assert "DTSTART:20261203T093000Z" in unfolded(ics(event(start=paris)))


@given(st.text(min_size=1, max_size=300))
def test_any_text_survives_escaping_and_folding(summary: str) -> None:
    text = ics(event(summary=summary))
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    (line,) = [line for line in unfolded(text) if line.startswith("SUMMARY:")]
    value = line.removeprefix("SUMMARY:")
    restored = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)
    assert restored == summary.replace("\r\n", "\n").replace("\r", "\n")
