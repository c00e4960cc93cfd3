"""The QR funnel's vocabulary: the steps from a scan on the rail to a sale, counted per SKU, pop-up and day."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

TRYON_ID_PATTERN = r"^[0-9a-f]{17}$"
TryOnId = Annotated[str, Field(pattern=TRYON_ID_PATTERN)]
"""Milliseconds since the epoch (11 hex digits) then 24 random bits: ids sort in request order."""


class FunnelStep(StrEnum):
    SCAN = "scans"
    TRYON_REQUESTED = "tryon_requests"
    TRYON_COMPLETED = "tryons_completed"
    BOOKED_AFTER_TRYON = "booked_after_tryon"
    SOLD_AFTER_TRYON = "sold_after_tryon"


class TryOnState(StrEnum):
    WAITING = "waiting"  # requested: the garment is held, the shopper waits for a fitting room
    CALLED = "called"  # staff called the shopper
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_STATES = (TryOnState.WAITING, TryOnState.CALLED)
