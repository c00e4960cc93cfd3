"""What every DynamoDB adapter shares: its table, the accounted call, and DynamoDB's number values."""

from __future__ import annotations

from typing import Any

from chalicelib.store.client import Call, call, read_item


def number(value: int) -> dict[str, str]:
    """An integer as a DynamoDB number attribute value."""
    return {"N": str(value)}


def number_of(raw: dict[str, Any], name: str, default: int = 0) -> int:
    """An integer attribute of a raw item (``default`` when absent)."""
    value = raw.get(name)
    return int(value["N"]) if value else default


class DynamoAdapter:
    """An adapter on one table. ``call`` is the accounted, deadline-aware ``client.call`` (tests pass
    a stand-in with its signature to inject failures)."""

    def __init__(self, table_name: str, call: Call = call) -> None:
        self._table = table_name
        self._call = call

    def _read(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """One raw item, read consistently."""
        return read_item(self._call, self._table, key)
