"""DynamoDB adapter for the studio's audit log (``AUDIT#<slug>``): one immutable item per change,
written in the same transaction as the change itself."""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib.core.audit import AuditEntry, FieldChange
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
        "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in entry.changes] or None,
    }
    return {"Put": {"TableName": table, "Item": to_item(item)}}


def _entry(slug: str, raw: dict[str, Any]) -> AuditEntry:
    e = from_item(raw)
    changes = tuple(FieldChange(c["field"], c["before"], c["after"]) for c in e.get("changes", []))
    return AuditEntry(slug, e["who"], e["action"], e["summary"], e["at"], changes)


class DynamoAudit(DynamoAdapter):
    def log(self, slug: str, limit: int = 50, *, who: str | None = None, action: str | None = None) -> list[AuditEntry]:
        """The newest ``limit`` entries, newest first; only those by ``who`` and of kind ``action``
        when given (filtered by DynamoDB, read page by page until ``limit`` match or none are left)."""
        wanted = {name: value for name, value in (("who", who), ("action", action)) if value is not None}
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": schema.PK, **{f"#{n}": n for n in wanted}},
            "ExpressionAttributeValues": {
                ":pk": {"S": schema.audit_partition(slug)},
                **{f":{n}": {"S": v} for n, v in wanted.items()},
            },
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if wanted:
            query["FilterExpression"] = " AND ".join(f"#{n} = :{n}" for n in wanted)
        found: list[AuditEntry] = []
        while True:
            page = self._call("query", **query)
            found.extend(_entry(slug, raw) for raw in page["Items"])
            if len(found) >= limit or "LastEvaluatedKey" not in page:
                return found[:limit]
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
