"""When to warm for a drop. Pure: no I/O.

A flash sale's spike arrives in its first minutes, and every new execution environment then is a
cold start; the drops calendar is known in advance, so the shopper function's provisioned
concurrency is raised from ``LEAD`` before a drop opens until ``FIRST_HOUR`` after, and dropped
back to none after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.models import Drop
from chalicelib.warming.ports import WarmWindow

LEAD = timedelta(minutes=10)
FIRST_HOUR = timedelta(hours=1)
START_MARGIN = timedelta(minutes=1)
"""A window already open is started this long from now (a schedule needs a time still to come)."""
INSTANCES = 10
"""Environments kept warm per drop: a launch minute's concurrency at the measured warm view time."""


def warm_window(drop: Drop, now: datetime, instances: int = INSTANCES) -> WarmWindow | None:
    """The drop's window, or None if it needs none (unpublished, or its first hour is over)."""
    ends = min(drop.starts_at + FIRST_HOUR, drop.ends_at)
    if not drop.published or ends <= now + START_MARGIN:
        return None
    return WarmWindow(drop.slug, max(drop.starts_at - LEAD, now + START_MARGIN), ends, instances)
