"""Reading a ``Cookie`` request header: the shop's visitor cookies, the waiting room's tickets, the
studio's session, and the edge's access log all read it the same way."""

from __future__ import annotations

MAX_COOKIE_HEADER = 4096


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header, tolerant of malformed headers."""
    if not cookie_header or len(cookie_header) > MAX_COOKIE_HEADER:
        return None
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"') or None
    return None
