"""DynamoDB adapter for the studio's counters (``NUMBERS#<slug>``, spread over ``NUMBER_SHARDS``
items): added to in the same write as what they count, summed for the charts."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.store import schema
from chalicelib.store.base import DynamoAdapter
from chalicelib.store.client import add_counters, paginate


class DynamoNumbers(DynamoAdapter):
    def add(self, slug: str, counts: Mapping[str, int]) -> None:
        if counts:
            self._call("update_item", **add_counters(self._table, schema.numbers_key(slug), counts))

    def counts(self, slug: str) -> dict[str, int]:
        """Every counter, summed over the drop's counter items."""
        totals: dict[str, int] = {}
        for raw in paginate(
            self._call,
            "query",
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": schema.PK},
            ExpressionAttributeValues={":pk": {"S": schema.numbers_partition(slug)}},
            ConsistentRead=True,
        ):
            for name, value in raw.items():
                if "N" in value:
                    totals[name] = totals.get(name, 0) + int(value["N"])
        return totals
