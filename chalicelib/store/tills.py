"""DynamoDB adapter for pop-up tills: their tokens (issued, revoked) and door-counter readings."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.base import DynamoAdapter, number, number_of
from chalicelib.store.client import index_items, paginate, transact
from chalicelib.tills.ports import FootfallReading, Till

FOOTFALL_CHUNK = 40
"""Readings per transaction: 40 puts and at most 40 day totals stay within DynamoDB's 100 actions."""


class DynamoTills(DynamoAdapter):
    def put_till(self, token_id: str, popup: str, issued_at: str) -> None:
        self._call(
            "put_item",
            TableName=self._table,
            Item={
                **schema.till_key(token_id),
                **to_item(
                    {
                        "popup": popup,
                        "issued_at": issued_at,
                        schema.GSI1_PK: schema.tills_index_partition(popup),
                        schema.GSI1_SK: f"{issued_at}#{token_id}",
                    }
                ),
            },
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": schema.PK},
        )

    def till(self, token_id: str) -> Till | None:
        raw = self._read(schema.till_key(token_id))
        if raw is None:
            return None
        item = from_item(raw)
        return Till(token_id, item["popup"], item["issued_at"], item.get("revoked_at"))

    def tills(self, popup: str) -> list[Till]:
        """The till tokens issued to a pop-up, newest first."""
        tills = index_items(self._call, self._table, schema.tills_index_partition(popup), newest_first=True)
        return [
            Till(till[schema.GSI1_SK].rpartition("#")[2], till["popup"], till["issued_at"], till.get("revoked_at"))
            for till in tills
        ]

    def revoke_till(self, token_id: str, revoked_at: str) -> None:
        self._call(
            "update_item",
            TableName=self._table,
            Key=schema.till_key(token_id),
            UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :at)",
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={"#pk": schema.PK},
            ExpressionAttributeValues={":at": {"S": revoked_at}},
        )

    def add_footfall(self, popup: str, readings: list[FootfallReading]) -> int:
        """Record each reading once and add it to its day's total: one transaction per chunk of
        readings; a chunk that meets readings recorded before is written again without them. The
        number recorded now (readings must have distinct ``at``)."""
        recorded = 0
        for start in range(0, len(readings), FOOTFALL_CHUNK):
            pending = readings[start : start + FOOTFALL_CHUNK]
            while pending:
                reasons = transact(self._call, self._footfall_actions(popup, pending), "footfall")
                if reasons is None:
                    recorded += len(pending)
                    break
                seen = {i for i, reason in enumerate(reasons[: len(pending)]) if _condition_failed(reason)}
                pending = [reading for i, reading in enumerate(pending) if i not in seen]
        return recorded

    def footfall_days(self, popup: str) -> dict[str, int]:
        days: dict[str, int] = {}
        for raw in paginate(
            self._call,
            "query",
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :day)",
            ProjectionExpression="#sk, entered",
            ExpressionAttributeNames={"#pk": schema.PK, "#sk": schema.SK},
            ExpressionAttributeValues={":pk": schema.footfall_key(popup, "")[schema.PK], ":day": {"S": "DAY#"}},
        ):
            days[raw[schema.SK]["S"].removeprefix("DAY#")] = number_of(raw, "entered")
        return days

    def _footfall_actions(self, popup: str, readings: list[FootfallReading]) -> list[dict[str, Any]]:
        """A put per reading (only if new), then one addition per local day (a day item may appear
        once in a transaction)."""
        days: dict[date, int] = {}
        for reading in readings:
            days[reading.day] = days.get(reading.day, 0) + reading.entered
        puts = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {**schema.footfall_key(popup, reading.at), "entered": number(reading.entered)},
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": schema.PK},
                }
            }
            for reading in readings
        ]
        totals = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": schema.footfall_key(popup, f"DAY#{day.isoformat()}"),
                    "UpdateExpression": "ADD entered :n",
                    "ExpressionAttributeValues": {":n": number(entered)},
                }
            }
            for day, entered in days.items()
        ]
        return puts + totals


def _condition_failed(reason: dict[str, Any]) -> bool:
    return reason.get("Code") == "ConditionalCheckFailed"
