"""DynamoDB adapter for the studio's audit log (``AUDIT#<slug>``): one immutable item per change,
written in the same transaction as the change itself."""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.client import Call, call


def entry_put(table: str, slug: str, who: str, action: str, summary: str, at_iso: str) -> dict[str, Any]:
    """A ``Put`` for a transaction: who did what to the drop, and when."""
    item = {
        schema.PK: schema.audit_partition(slug),
        schema.SK: f"{at_iso}#{secrets.token_hex(4)}",
        "who": who,
        "action": action,
        "summary": summary,
        "at": at_iso,
    }
    return {"Put": {"TableName": table, "Item": to_item(item)}}


class DynamoAudit:
    def __init__(self, table_name: str, call: Call = call) -> None:
        self._table = table_name
        self._call = call

    def log(self, slug: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` entries, newest first."""
        page = self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": schema.PK},
            ExpressionAttributeValues={":pk": {"S": schema.audit_partition(slug)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [{k: v for k, v in from_item(raw).items() if k not in (schema.PK, schema.SK)} for raw in page["Items"]]
