"""The reference ("was") price a discount may be shown against: the lowest list price of the prior
30 days (Article 6a of Directive 98/6/EC, as the Omnibus Directive has it). Pure.

A SKU keeps, per currency, each list price it had before the current one and when that price
stopped applying (``Sku.price_history``: ``(until, minor)``). A price that applied until a moment
inside the window applied during it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

REFERENCE_DAYS = 30
KEPT_CHANGES = 20
"""Price changes kept per currency: far more than a micro-drop's 30 days ever sees."""

PriceChange = tuple[datetime, int]
"""A list price that applied until a moment: ``(until, minor)``."""


def reference_minor(current: int, history: Sequence[PriceChange], now: datetime) -> int:
    """The lowest list price in effect at any moment of the ``REFERENCE_DAYS`` before ``now``."""
    if not history:  # most SKUs' prices never changed
        return current
    since = now - timedelta(days=REFERENCE_DAYS)
    return min([current, *(minor for until, minor in history if until > since)])


def with_change(
    history: Mapping[str, Sequence[PriceChange]],
    before: Mapping[str, int],
    after: Mapping[str, int],
    now: datetime,
) -> dict[str, tuple[PriceChange, ...]]:
    """The history once the list prices went from ``before`` to ``after`` at ``now``: each currency
    whose price changed records the old price as applying until now; changes older than the window
    (and beyond ``KEPT_CHANGES``) are dropped, since no reference can need them."""
    since = now - timedelta(days=REFERENCE_DAYS)
    updated: dict[str, tuple[PriceChange, ...]] = {}
    for currency in after:
        kept = [change for change in history.get(currency, ()) if change[0] > since]
        old = before.get(currency)
        if old is not None and old != after[currency]:
            kept.append((now, old))
        if kept:
            updated[currency] = tuple(kept[-KEPT_CHANGES:])
    return updated
