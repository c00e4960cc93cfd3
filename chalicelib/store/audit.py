"""DynamoDB adapter for the studio's audit log (``AUDIT#<slug>``): one immutable item per change,
written in the same transaction as the change itself."""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib.core.audit import AuditEntry
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.base import DynamoAdapter


def entry_put(table: str, entry: AuditEntry) -> dict[str, Any]:
    """A ``Put`` for the transaction that makes the change the entry describes."""
    item = {
        schema.PK: schema.audit_partition(entry.slug),
        schema.SK: f"{entry.at}#{secrets.token_hex(4)}",
        "who": entry.who,
        "action": entry.action,
        "summary": entry.summary,
        "at": entry.at,
    }
    return {"Put": {"TableName": table, "Item": to_item(item)}}


class DynamoAudit(DynamoAdapter):
    def log(self, slug: str, limit: int = 50) -> list[AuditEntry]:
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
        entries = (from_item(raw) for raw in page["Items"])
        return [AuditEntry(slug, e["who"], e["action"], e["summary"], e["at"]) for e in entries]
