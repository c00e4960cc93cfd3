"""DynamoDB adapter for the waiting room's arrivals: one item per drop and minute, a counter per
second (``s00``..``s59``), so a process's tally of several seconds is one ``UpdateItem`` per minute
it touches, and the whole room's history is one short Query."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from chalicelib.store import schema
from chalicelib.store.base import DynamoAdapter, number
from chalicelib.store.client import add_counters, paginate

KEEP = timedelta(days=1)


class DynamoArrivals(DynamoAdapter):
    def add_arrivals(self, slug: str, counts: Mapping[int, int]) -> None:
        minutes: dict[int, dict[str, int]] = {}
        for second, count in counts.items():
            minutes.setdefault(second // 60, {})[f"s{second % 60:02d}"] = count
        for minute, seconds in sorted(minutes.items()):
            update = add_counters(self._table, schema.arrivals_key(slug, minute), seconds)
            update["UpdateExpression"] += " SET #ttl = :ttl"
            update["ExpressionAttributeNames"]["#ttl"] = schema.TTL_ATTRIBUTE
            update["ExpressionAttributeValues"][":ttl"] = number(minute * 60 + int(KEEP.total_seconds()))
            self._call("update_item", **update)

    def arrivals(self, slug: str, since: int) -> dict[int, int]:
        counts: dict[int, int] = {}
        for raw in paginate(
            self._call,
            "query",
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND #sk >= :from",
            ExpressionAttributeNames={"#pk": schema.PK, "#sk": schema.SK},
            ExpressionAttributeValues={
                ":pk": {"S": schema.room_partition(slug)},
                ":from": schema.arrivals_key(slug, since // 60)[schema.SK],
            },
        ):
            minute = int(raw[schema.SK]["S"].removeprefix("ARRIVALS#"))
            for name, value in raw.items():
                if len(name) == 3 and name[0] == "s" and name[1:].isdigit():
                    second = minute * 60 + int(name[1:])
                    if second >= since:
                        counts[second] = int(value["N"])
        return counts
