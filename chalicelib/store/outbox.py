"""DynamoDB adapter for the outbox: each message is an item, and while it waits a pointer item under
one partition sorted by when it may be tried, so the sweep finds what is due with one Query.

A message is queued in its cause's own transaction (``queue_actions``): the booking and its
confirmation commit together or not at all. Claiming, finishing and retrying are conditioned on the
message's state and the claim's token, so two sweeps never both send one message.
"""

from __future__ import annotations

from typing import Any

from chalicelib.outbox.ports import MessageKind, MessageRecord, MessageStatus, QueuedMessage
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.base import DynamoAdapter, number
from chalicelib.store.client import index_items, transact, update_if


def queue_actions(table: str, message: QueuedMessage) -> list[dict[str, Any]]:
    """The transaction actions that queue ``message``: its item and its pointer."""
    fields = {
        "id": message.id,
        "kind": message.kind.value,
        "to": message.to,
        "locale": message.locale,
        "subject": message.subject,
        "about": message.about,
        "due_at": message.due_at,
        "created_at": message.created_at,
        "status": MessageStatus.PENDING.value,
        "not_before": message.due_at,
        "attempts": 0,
        schema.GSI1_PK: schema.mailto_index_partition(message.to),
        schema.GSI1_SK: f"{message.created_at}#{message.id}",
    }
    item = {
        "TableName": table,
        "Item": {**schema.message_key(message.id), **to_item(fields)},
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": schema.PK},
    }
    pointer = {
        "TableName": table,
        "Item": {**schema.outbox_due_key(message.due_at, message.id), "id": {"S": message.id}},
    }
    return [{"Put": item}, {"Put": pointer}]


def record_from_item(item: dict[str, Any]) -> MessageRecord:
    message = QueuedMessage(
        id=item["id"],
        kind=MessageKind(item["kind"]),
        to=item["to"],
        locale=item["locale"],
        subject=item["subject"],
        about=item["about"],
        due_at=item["due_at"],
        created_at=item["created_at"],
    )
    return MessageRecord(
        message=message,
        status=MessageStatus(item["status"]),
        not_before=item["not_before"],
        attempts=item.get("attempts", 0),
        sent_at=item.get("sent_at"),
        provider_id=item.get("provider_id"),
        last_error=item.get("last_error"),
    )


class DynamoOutbox(DynamoAdapter):
    def due(self, now_epoch: int, limit: int) -> list[MessageRecord]:
        """Up to ``limit`` waiting messages that may be tried by now, oldest first."""
        page = self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND #sk <= :until",
            ExpressionAttributeNames={"#pk": schema.PK, "#sk": schema.SK},
            ExpressionAttributeValues={":pk": {"S": schema.OUTBOX_DUE}, ":until": {"S": f"{now_epoch:010d}#~"}},
            Limit=limit,
            ConsistentRead=True,
        )
        ids = [raw["id"]["S"] for raw in page.get("Items", [])]
        return [record for record in (self.message(i) for i in ids) if record is not None]

    def message(self, message_id: str) -> MessageRecord | None:
        raw = self._read(schema.message_key(message_id))
        return None if raw is None else record_from_item(from_item(raw))

    def claim(self, message_id: str, token: str, lease_until: int, now_epoch: int) -> bool:
        """Take a waiting message (or one whose sweep's lease ran out) for this sweep."""
        return update_if(
            self._call,
            TableName=self._table,
            Key=schema.message_key(message_id),
            UpdateExpression="SET #status = :sending, claim = :token, lease = :until",
            ConditionExpression=(
                "not_before <= :now AND (#status = :pending"
                " OR (#status = :sending AND (lease < :now OR claim = :token)))"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":sending": {"S": MessageStatus.SENDING.value},
                ":pending": {"S": MessageStatus.PENDING.value},
                ":token": {"S": token},
                ":until": number(lease_until),
                ":now": number(now_epoch),
            },
        )

    def finish(
        self, record: MessageRecord, token: str, status: MessageStatus, at_iso: str, provider_id: str | None = None
    ) -> bool:
        """Record how a claimed message ended (sent, skipped, failed) and stop waiting for it."""
        values: dict[str, Any] = {":status": {"S": status.value}, ":at": {"S": at_iso}, ":token": {"S": token}}
        expression = "SET #status = :status, finished_at = :at"
        if status is MessageStatus.SENT:
            expression += ", sent_at = :at"
        if provider_id is not None:
            values[":provider"] = {"S": provider_id}
            expression += ", provider_id = :provider"
        update = {
            "TableName": self._table,
            "Key": schema.message_key(record.message.id),
            "UpdateExpression": expression + " REMOVE claim, lease",
            "ConditionExpression": "claim = :token",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
        }
        pointer = {"TableName": self._table, "Key": schema.outbox_due_key(record.not_before, record.message.id)}
        return transact(self._call, [{"Update": update}, {"Delete": pointer}], "outbox") is None

    def retry(self, record: MessageRecord, token: str, not_before: int, error: str) -> bool:
        """Put a claimed message back to wait until ``not_before``, one attempt more."""
        message_id = record.message.id
        update = {
            "TableName": self._table,
            "Key": schema.message_key(message_id),
            "UpdateExpression": (
                "SET #status = :pending, not_before = :next, attempts = attempts + :one, last_error = :error "
                "REMOVE claim, lease"
            ),
            "ConditionExpression": "claim = :token",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":pending": {"S": MessageStatus.PENDING.value},
                ":next": number(not_before),
                ":one": number(1),
                ":error": {"S": error},
                ":token": {"S": token},
            },
        }
        old = {"TableName": self._table, "Key": schema.outbox_due_key(record.not_before, message_id)}
        new = {
            "TableName": self._table,
            "Item": {**schema.outbox_due_key(not_before, message_id), "id": {"S": message_id}},
        }
        return transact(self._call, [{"Update": update}, {"Delete": old}, {"Put": new}], "outbox") is None

    def for_recipient(self, email: str, limit: int) -> list[MessageRecord]:
        """The messages to ``email`` (any case), newest first."""
        items = index_items(self._call, self._table, schema.mailto_index_partition(email), newest_first=True)
        return [record_from_item(item) for item in items[:limit]]
