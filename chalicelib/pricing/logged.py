"""The form of a view's decisions in its request's log line: the shop writes it (``engine.compact``,
``telemetry.offers_shown``), replay and the decision log read it. Its own module, importing
nothing, so the store's decision log may read it without importing the engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DECISION_FIELDS = (
    "decision_id",
    "sku",
    "list_minor",
    "cost_minor",
    "sell_through_bps",
    "location_sell_through_bps",
    "candidates",
    "clamps",
    "rules",
    "price_minor",
    "discount_bps",
)
"""A logged decision's columns: a view's log line names them once (``fields``), then has a row
per SKU (decision 113: half the bytes of a dict per SKU, and quicker to build and encode)."""

type DecisionRow = tuple[Any, ...]


def logged_entries(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A logged view's decisions, one dict each: its rows under its ``fields``, or the dicts that
    lines written before decision 113 hold."""
    decisions = list(view.get("decisions", ()))
    fields = view.get("fields")
    if fields is None:
        return decisions
    return [dict(zip(fields, row, strict=True)) for row in decisions]
