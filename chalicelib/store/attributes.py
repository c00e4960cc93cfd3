"""Conversion between DynamoDB's typed attribute values and plain Python values.

Smaller and faster than boto3's TypeDeserializer for what we store: whole numbers come back as
``int``, others (coordinates) as ``float``. Money is integer minor units, enforced by the models.
"""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum
from typing import Any


def from_attribute(value: dict[str, Any]) -> Any:
    ((kind, raw),) = value.items()
    if kind == "S":
        return raw
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "M":
        return {k: from_attribute(v) for k, v in raw.items()}
    if kind == "L":
        return [from_attribute(v) for v in raw]
    if kind == "BOOL":
        return raw
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {int(v) for v in raw}
    raise ValueError(f"unsupported DynamoDB attribute type {kind!r}")


def from_item(item: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {k: from_attribute(v) for k, v in item.items()}


def to_attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float) and math.isfinite(value):
        return {"N": repr(value)}
    if isinstance(value, dict):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attribute(v) for v in value]}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"cannot store {value!r} ({type(value).__name__})")


def to_item(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: to_attribute(v) for k, v in values.items() if v is not None}


def counter_attribute(counter: StrEnum, day: date) -> str:
    """The attribute that counts ``counter`` on ``day`` (the location's local date): a stock item's
    ``Counter`` or a funnel item's step."""
    return f"{counter.value}@{day.isoformat()}"
