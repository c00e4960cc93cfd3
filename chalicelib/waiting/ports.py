"""What the waiting room needs stored: tickets issued per second, per drop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class ArrivalStore(Protocol):
    def add_arrivals(self, slug: str, counts: Mapping[int, int]) -> None:
        """Add ``counts`` (tickets per epoch second) to the drop's arrivals."""

    def arrivals(self, slug: str, since: int) -> dict[int, int]:
        """The drop's tickets per epoch second, from ``since`` on."""
