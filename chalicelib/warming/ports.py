"""The warm-up schedule's port: a drop's window and what keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WarmWindow:
    """When the shopper function keeps ``instances`` execution environments initialized for a drop:
    from a few minutes before it opens until its first hour is over (aware UTC)."""

    drop: str
    starts: datetime
    ends: datetime
    instances: int


class WarmSchedule(Protocol):
    """Keeps one window per drop: scheduling a drop again replaces its window."""

    def schedule(self, window: WarmWindow) -> None: ...

    def unschedule(self, drop: str) -> None: ...

    def windows(self) -> list[WarmWindow]: ...
