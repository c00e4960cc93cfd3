"""The queue's arithmetic. Pure: arrivals counted per second and a clock give who is in.

Shoppers are ranked by the instant their ticket was issued. The room lets them in at the drop's
rate from the moment it opens: the *frontier* (how many of the queue are in) grows by the rate each
second but never past the number who have arrived, so capacity nobody used is not banked for a
later crowd. A ticket is in once its rank is below the frontier.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core.models import Drop, WaitingRoom

QUEUE_LEAD = timedelta(minutes=15)
"""How long before the opening shoppers are given their place (the teaser page's last minutes)."""

Arrivals = Mapping[int, int]
"""Tickets issued per epoch second."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a ticket stands now: in, or how many are ahead and about how long they will take."""

    admitted: bool
    ahead: int
    wait_seconds: int


def room_closes(drop: Drop) -> datetime:
    """When the drop's waiting room (if any) lets everyone in: ``minutes`` after the opening, and
    never past the drop's end."""
    minutes = drop.waiting_room.minutes if drop.waiting_room else 0
    return min(drop.starts_at + timedelta(minutes=minutes), drop.ends_at)


def room_of(drop: Drop, now: datetime) -> WaitingRoom | None:
    """The drop's waiting room if it is on at ``now``: from ``QUEUE_LEAD`` before the opening until
    it closes; None otherwise."""
    room = drop.waiting_room
    return room if room is not None and drop.starts_at - QUEUE_LEAD <= now < room_closes(drop) else None


def rank(arrivals: Arrivals, issued_ms: int) -> float:
    """How many tickets were issued before this one: every earlier second's, and the share of its
    own second's that came before its millisecond."""
    second, within = divmod(issued_ms, 1000)
    earlier = sum(count for at, count in arrivals.items() if at < second)
    return earlier + arrivals.get(second, 0) * within / 1000


def frontier(arrivals: Arrivals, opens: datetime, per_minute: int, now: datetime) -> float:
    """How many of the queue are in at ``now``. Tickets of a second count from its start; before
    the opening nobody is in; after it the frontier gains ``per_minute / 60`` a second, capped by
    the tickets issued so far."""
    opens_s, now_s, rate = opens.timestamp(), now.timestamp(), per_minute / 60
    if now_s <= opens_s:
        return 0.0
    admitted, at, issued = 0.0, opens_s, 0
    for second in sorted(arrivals):
        if second >= now_s:
            break
        if second > at:
            admitted, at = min(admitted + rate * (second - at), issued), second
        issued += arrivals[second]
    return min(admitted + rate * (now_s - at), issued)


def place(arrivals: Arrivals, issued_ms: int, room: WaitingRoom, opens: datetime, now: datetime) -> Place:
    """Where the ticket issued at ``issued_ms`` stands. Its own arrival always counts, even before
    the process that issued it has written it down, so a ticket can never wait behind itself."""
    second = issued_ms // 1000
    counted = {**arrivals, second: max(arrivals.get(second, 0), 1)}
    mine, done = rank(counted, issued_ms), frontier(counted, opens, room.admit_per_minute, now)
    if mine < done:
        return Place(True, 0, 0)
    ahead = mine - done
    start = max(0.0, (opens - now).total_seconds())
    return Place(False, math.floor(ahead), math.ceil(start + (ahead + 1) * 60 / room.admit_per_minute))


def progress(ahead_at_arrival: int, ahead: int) -> float:
    """The share of the way to the front covered since arriving, 0 to 1 (the shopper's own place
    counts: someone next in line from the start has not moved yet)."""
    return max(0.0, min(1.0, 1 - (ahead + 1) / (ahead_at_arrival + 1)))
