"""DynamoDB adapter for the studio's counters (``NUMBERS#<slug>``): added to in the same write as
what they count, read whole for the charts."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.store import schema
from chalicelib.store.base import DynamoAdapter
from chalicelib.store.client import add_counters


class DynamoNumbers(DynamoAdapter):
    def add(self, slug: str, counts: Mapping[str, int]) -> None:
        if counts:
            self._call("update_item", **add_counters(self._table, schema.numbers_key(slug), counts))

    def counts(self, slug: str) -> dict[str, int]:
        raw = self._read(schema.numbers_key(slug)) or {}
        return {name: int(value["N"]) for name, value in raw.items() if "N" in value}
