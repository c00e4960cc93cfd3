"""Holds: stock set aside for a while (a try-on, a short checkout), released when they expire.

A hold lives on its stock item with its expiry. Whoever next needs that stock releases expired
holds first; this sweep, run every minute, releases the ones nobody needed. Neither waits for TTL.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.catalog.reader import Catalog
from chalicelib.stock.ports import HoldStore
from chalicelib.telemetry import logger


def sweep_expired_holds(catalog: Catalog, store: HoldStore, now: datetime) -> int:
    """Release every expired hold of every drop; the units given back."""
    released = 0
    for drop in catalog.all_drops():
        released += store.release_expired_in_drop(drop.slug, drop.generation, now)
    if released:
        logger.info("expired holds released", extra={"units": released})
    return released
