"""The waiting room's two signed cookies, one pair per drop.

The *ticket* (``dfq-<slug>``) says when its holder arrived and how many were ahead then; it is the
holder's place in the line, kept by the browser (and sent to the drop's page and its QR try-on
pages alike), so waiting costs no database write. The *pass* (``dfa-<slug>``) says the room let
this visitor in; holds, try-ons and bookings ask for it while the room is on. Both are signed for
their own purpose and bound to the drop (the pass also to the visitor), so neither can be forged,
moved to another drop or lent to another browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.cookies import cookie_value
from chalicelib.core.tokens import LIFETIMES, InvalidToken, Purpose, sign, verify

MAX_TOKEN = 512


@dataclass(frozen=True, slots=True)
class Ticket:
    slug: str
    issued_ms: int
    ahead_at_arrival: int


def ticket_cookie_name(slug: str) -> str:
    return f"dfq-{slug}"


def pass_cookie_name(slug: str) -> str:
    return f"dfa-{slug}"


def sign_ticket(ticket: Ticket) -> str:
    return sign(Purpose.QUEUE_TICKET, [ticket.slug, ticket.issued_ms, ticket.ahead_at_arrival])


def read_ticket(cookie_header: str | None, slug: str) -> Ticket | None:
    """The drop's ticket from the ``Cookie`` header; None if missing, forged, expired or another drop's."""
    token = cookie_value(cookie_header, ticket_cookie_name(slug))
    try:
        fields = verify(Purpose.QUEUE_TICKET, token) if token and len(token) <= MAX_TOKEN else None
    except InvalidToken:
        return None
    match fields:
        case [str(signed_slug), int(issued_ms), int(ahead)] if signed_slug == slug:
            return Ticket(signed_slug, issued_ms, ahead)
    return None


def sign_pass(slug: str, visitor_id: str) -> str:
    return sign(Purpose.ADMISSION, [slug, visitor_id])


def has_pass(cookie_header: str | None, slug: str, visitor_id: str) -> bool:
    """True if the ``Cookie`` header holds a live pass into this drop for this visitor."""
    token = cookie_value(cookie_header, pass_cookie_name(slug))
    try:
        fields = verify(Purpose.ADMISSION, token) if token and len(token) <= MAX_TOKEN else None
    except InvalidToken:
        return False
    return fields == [slug, visitor_id]


def ticket_header(slug: str, token: str) -> str:
    max_age = int(LIFETIMES[Purpose.QUEUE_TICKET].total_seconds())
    return f"{ticket_cookie_name(slug)}={token}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Lax"


def pass_header(slug: str, token: str) -> str:
    max_age = int(LIFETIMES[Purpose.ADMISSION].total_seconds())
    return f"{pass_cookie_name(slug)}={token}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Lax"
