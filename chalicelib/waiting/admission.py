"""Who may reach the stock while a drop's waiting room is on.

A view of the drop's page gives the viewer a ticket if they have none (counted in this process's
tally, written at most once a second), then either a pass (they are in) or the queue page. Holds and
bookings ask for the pass. Waiting shoppers cost a read of the room's counts at most once a second
per process, and no write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.errors import RateLimited, Unavailable
from chalicelib.core.models import Drop
from chalicelib.telemetry import logger
from chalicelib.waiting.ports import ArrivalStore
from chalicelib.waiting.room import QUEUE_LEAD, Arrivals, Place, place, room_of
from chalicelib.waiting.tickets import Ticket, has_pass, pass_header, read_ticket, sign_pass, sign_ticket, ticket_header

FLUSH_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Entry:
    """A view of the drop while its room is on: where the viewer stands, and the cookies to set (a
    new ticket, a first pass)."""

    place: Place
    ticket: Ticket
    cookies: tuple[str, ...]


class WaitingRooms:
    """The rooms as this process sees them: the stored arrivals (re-read after ``cache_seconds``)
    plus the tickets it issued and has not written yet."""

    def __init__(self, store: ArrivalStore, cache_seconds: float) -> None:
        self._store, self._cache_seconds = store, cache_seconds
        self._read: dict[str, tuple[float, dict[int, int]]] = {}
        self._pending: dict[str, dict[int, int]] = {}
        self._flushed_at = 0.0

    def enter(self, drop: Drop, visitor_id: str, cookie_header: str | None, now: datetime) -> Entry | None:
        """The viewer's place in the drop's room, or None when the room is off."""
        room = room_of(drop, now)
        if room is None:
            return None
        cookies = []
        ticket = read_ticket(cookie_header, drop.slug)
        issued_ms = ticket.issued_ms if ticket else int(now.timestamp() * 1000)
        if ticket is None:  # a new arrival, counted in this process's tally
            pending = self._pending.setdefault(drop.slug, {})
            pending[issued_ms // 1000] = pending.get(issued_ms // 1000, 0) + 1
        where = place(self._arrivals(drop, now), issued_ms, room, drop.starts_at, now)
        if ticket is None:
            ticket = Ticket(drop.slug, issued_ms, where.ahead)
            cookies.append(ticket_header(drop.slug, sign_ticket(ticket)))
        if where.admitted and not has_pass(cookie_header, drop.slug, visitor_id):
            cookies.append(pass_header(drop.slug, sign_pass(drop.slug, visitor_id)))
        self._flush(now)
        return Entry(where, ticket, tuple(cookies))

    def _arrivals(self, drop: Drop, now: datetime) -> Arrivals:
        since = int((drop.starts_at - QUEUE_LEAD).timestamp())
        read_at, stored = self._read.get(drop.slug, (float("-inf"), {}))
        if now.timestamp() - read_at >= self._cache_seconds:
            stored = self._store.arrivals(drop.slug, since)
            self._read[drop.slug] = (now.timestamp(), stored)
        return _added(stored, self._pending.get(drop.slug, {}))

    def _flush(self, now: datetime) -> None:
        """Write this process's tally, at most once a second. A failed write keeps it for the next."""
        if not self._pending or now.timestamp() - self._flushed_at < FLUSH_SECONDS:
            return
        self._flushed_at = now.timestamp()
        for slug, counts in list(self._pending.items()):
            try:
                self._store.add_arrivals(slug, counts)
            except Unavailable:  # the tally is kept; the room only runs a little ahead meanwhile
                logger.warning("Waiting room arrivals not written; kept for the next try", extra={"drop": slug})
                continue
            del self._pending[slug]
            read_at, stored = self._read.get(slug, (float("-inf"), {}))
            self._read[slug] = (read_at, _added(stored, counts))


def _added(one: Arrivals, other: Arrivals) -> dict[int, int]:
    return {second: one.get(second, 0) + other.get(second, 0) for second in one.keys() | other.keys()}


def may_reach_stock(drop: Drop, visitor_id: str, cookie_header: str | None, now: datetime) -> bool:
    """True unless the drop's room is on and the visitor was not let in."""
    return room_of(drop, now) is None or now < drop.starts_at or has_pass(cookie_header, drop.slug, visitor_id)


def require_pass(drop: Drop, visitor_id: str, cookie_header: str | None, now: datetime) -> None:
    """``RateLimited`` (429 ``in_queue``) unless ``may_reach_stock``: while the room is on, only
    admitted shoppers' holds and bookings reach the stock."""
    if not may_reach_stock(drop, visitor_id, cookie_header, now):
        raise RateLimited(
            "Many shoppers are here for this drop: you are in its waiting room. "
            "Open the drop's page to see your place.",
            code="in_queue",
            retry_after=10,
        )
