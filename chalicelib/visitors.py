"""The visitor: a random first-party id, signed into the ``dfv`` cookie.

A missing, tampered or expired cookie makes a new anonymous visitor; that is never an error.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from chalicelib.tokens import LIFETIMES, InvalidToken, Purpose, sign, verify

COOKIE_NAME = "dfv"
MAX_COOKIE_HEADER = 4096


@dataclass(frozen=True)
class Visitor:
    id: str
    is_new: bool


def cookie_value(cookie_header: str | None, name: str = COOKIE_NAME) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header, tolerant of malformed headers."""
    if not cookie_header or len(cookie_header) > MAX_COOKIE_HEADER:
        return None
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"') or None
    return None


def identify(cookie_header: str | None) -> tuple[Visitor, str | None]:
    """The visitor, and a fresh cookie token to set when the request had no valid one."""
    token = cookie_value(cookie_header)
    if token:
        try:
            visitor_id = verify(Purpose.VISITOR, token)
        except InvalidToken:
            visitor_id = None
        if isinstance(visitor_id, str) and 8 <= len(visitor_id) <= 64:
            return Visitor(id=visitor_id, is_new=False), None
    visitor_id = secrets.token_urlsafe(12)
    return Visitor(id=visitor_id, is_new=True), sign(Purpose.VISITOR, visitor_id)


def set_cookie_header(token: str) -> str:
    max_age = int(LIFETIMES[Purpose.VISITOR].total_seconds())
    return f"{COOKIE_NAME}={token}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Lax"
