"""DynamoDB adapter for the studio's counters (``NUMBERS#<slug>``): added to in the same write as
what they count, read whole for the charts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.store import schema
from chalicelib.store.client import Call, call, read_item


def add_action(table: str, slug: str, counts: Mapping[str, int]) -> dict[str, Any]:
    """An ``Update`` for a transaction that adds ``counts`` to the drop's counters."""
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values = {f":c{i}": {"N": str(value)} for i, value in enumerate(counts.values())}
    return {
        "TableName": table,
        "Key": schema.numbers_key(slug),
        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


class DynamoNumbers:
    def __init__(self, table_name: str, call: Call = call) -> None:
        self._table = table_name
        self._call = call

    def add(self, slug: str, counts: Mapping[str, int]) -> None:
        if counts:
            self._call("update_item", **add_action(self._table, slug, counts))

    def counts(self, slug: str) -> dict[str, int]:
        raw = read_item(self._call, self._table, schema.numbers_key(slug)) or {}
        return {name: int(value["N"]) for name, value in raw.items() if "N" in value}
