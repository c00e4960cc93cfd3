"""A booking as an iCalendar event (RFC 5545): the pickup slot, where, and the code to show.

Pure text, so the confirmation page's download and (later) the confirmation email attach the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

PRODUCT_ID = "-//dropfront//pickup//EN"


@dataclass(frozen=True, slots=True)
class PickupEvent:
    code: str
    start: datetime  # aware
    end: datetime
    stamp: datetime  # when the booking was made
    summary: str
    location: str
    description: str
    url: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def _text(value: str) -> str:
    """An iCalendar TEXT value: backslash, semicolon, comma and newlines escaped."""
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (never inside a character)."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def ics(event: PickupEvent) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.code}@dropfront",
        f"DTSTAMP:{_stamp(event.stamp)}",
        f"DTSTART:{_stamp(event.start)}",
        f"DTEND:{_stamp(event.end)}",
        f"SUMMARY:{_text(event.summary)}",
        f"LOCATION:{_text(event.location)}",
        f"DESCRIPTION:{_text(event.description)}",
    ]
    if event.latitude is not None and event.longitude is not None:
        lines.append(f"GEO:{event.latitude:.6f};{event.longitude:.6f}")
    if event.url:
        lines.append(f"URL:{event.url}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
