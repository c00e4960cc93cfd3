"""The customers' port: a sighting, what it told us, and the store that remembers customers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Sighting:
    """A customer seen: buying (a booking, a till receipt with their email) at a pop-up of a drop, or
    asking to hear about a drop (no pop-up, no purchase)."""

    customer: str  # stock.limits.customer_key of their email
    drop: str
    popup: str | None
    at: str  # ISO 8601 UTC
    purchase: bool


@dataclass(frozen=True, slots=True)
class Known:
    """What a sighting told us: whether it was the customer's first purchase anywhere, their first at
    this drop's pop-up, and the pop-up where they first bought (remembered once)."""

    first_purchase: bool
    first_here: bool
    first_popup: str | None


class CustomerStore(Protocol):
    def see(self, sighting: Sighting) -> Known: ...
