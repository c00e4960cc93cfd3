"""DynamoDB adapter for marketers' templates: immutable numbered versions and a published pointer.

``TEMPLATE#<name> / v000001…`` hold each saved version (never changed); ``TEMPLATE#<name> / CURRENT``
holds the latest version number, the published one, the one before it (for rollback) and an optional
scheduled publish. Publishing checks in the same transaction that the version exists.
"""

from __future__ import annotations

from typing import Any

from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.base import DynamoAdapter
from chalicelib.store.client import paginate, transact


class VersionMissing(Exception):
    """Publishing a version that was never saved."""


class PointerMoved(Exception):
    """Someone else published meanwhile: the caller re-reads and decides again."""


def _version_key(name: str, version: int) -> dict[str, dict[str, str]]:
    return {schema.PK: {"S": schema.template_partition(name)}, schema.SK: {"S": f"v{version:06d}"}}


SHIPPED = 0
"""The version number of the template shipped in templates/: publishing it goes back to it."""


def _pointer_move(assignments: str, expected: int | None, values: dict[str, Any]) -> tuple[str, str]:
    """The update and condition that move ``published`` only if it is still ``expected`` (None: nothing
    published yet); the version it replaces becomes ``previous`` (the shipped template, 0, for the
    first publish), and any scheduled publish is done."""
    values[":previous"] = {"N": str(SHIPPED if expected is None else expected)}
    condition = "attribute_not_exists(published)" if expected is None else "published = :previous"
    return f"SET {assignments}, previous = :previous REMOVE scheduled", condition


def _pointer_key(name: str) -> dict[str, dict[str, str]]:
    return {schema.PK: {"S": schema.template_partition(name)}, schema.SK: {"S": "CURRENT"}}


class DynamoTemplates(DynamoAdapter):
    def pointer(self, name: str) -> dict[str, Any] | None:
        raw = self._read(_pointer_key(name))
        return None if raw is None else from_item(raw)

    def version(self, name: str, version: int) -> dict[str, Any] | None:
        raw = self._read(_version_key(name, version))
        return None if raw is None else from_item(raw)

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every saved version, oldest first, without its source."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :v)",
            "ProjectionExpression": "version, author, saved_at, note, published_at",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#sk": schema.SK},
            "ExpressionAttributeValues": {":pk": {"S": schema.template_partition(name)}, ":v": {"S": "v"}},
        }
        return [from_item(raw) for raw in paginate(self._call, "query", **kwargs)]

    def save(self, name: str, source: str, author: str, saved_at: str, note: str) -> int:
        """Store a new version; its number. The counter moves first, so a crash leaves a gap, never
        two versions with one number."""
        answer = self._call(
            "update_item",
            TableName=self._table,
            Key=_pointer_key(name),
            UpdateExpression="ADD latest :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        version = int(answer["Attributes"]["latest"]["N"])
        fields = {"version": version, "source": source, "author": author, "saved_at": saved_at, "note": note}
        self._call(
            "put_item",
            TableName=self._table,
            Item={**_version_key(name, version), **to_item(fields)},
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": schema.PK},
        )
        return version

    def publish(self, name: str, version: int, expected: int | None, by: str, at_iso: str) -> None:
        """Point ``published`` at ``version`` (the one it replaces becomes ``previous``), only if it is
        still ``expected`` (None: nothing published yet). Clears any scheduled publish."""
        values: dict[str, Any] = {":v": {"N": str(version)}, ":by": {"S": by}, ":at": {"S": at_iso}}
        update, condition = _pointer_move("published = :v, updated_by = :by, updated_at = :at", expected, values)
        self._pointer_change(name, version, update, condition, values, published_at=at_iso)

    def schedule(self, name: str, version: int, when_iso: str, by: str, at_iso: str) -> None:
        """Publish ``version`` at ``when_iso`` (readers switch at that moment; the sweep records it)."""
        values = {
            ":s": {"M": {"version": {"N": str(version)}, "at": {"S": when_iso}}},
            ":by": {"S": by},
            ":at": {"S": at_iso},
        }
        update = "SET scheduled = :s, updated_by = :by, updated_at = :at"
        self._pointer_change(name, version, update, "attribute_exists(latest)", values)

    def _pointer_change(
        self,
        name: str,
        version: int,
        update: str,
        condition: str,
        values: dict[str, Any],
        published_at: str | None = None,
    ) -> None:
        """Move the pointer, if ``version`` exists (version 0, the shipped template, always does);
        ``published_at``: the version goes live now, and its item records when."""
        actions = [
            *([self._version_goes_live(name, version, published_at)] if version != SHIPPED else []),
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _pointer_key(name),
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": values,
                }
            },
        ]
        reasons = transact(self._call, actions, "publish")
        if reasons is None:
            return
        if version != SHIPPED and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise VersionMissing(f"{name} has no version {version}")
        raise PointerMoved(name)

    def _version_goes_live(self, name: str, version: int, published_at: str | None) -> dict[str, Any]:
        """The transaction's check that ``version`` was saved; when it goes live, also the record of when."""
        exists = {"ConditionExpression": "attribute_exists(#pk)", "ExpressionAttributeNames": {"#pk": schema.PK}}
        key = {"TableName": self._table, "Key": _version_key(name, version), **exists}
        if published_at is None:
            return {"ConditionCheck": key}
        values = {":published": {"S": published_at}}
        return {
            "Update": {**key, "UpdateExpression": "SET published_at = :published", "ExpressionAttributeValues": values}
        }

    def make_scheduled_current(self, name: str, version: int, replaces: int | None, at_iso: str) -> bool:
        """Turn a scheduled publish whose time has come (the caller checks) into the published pointer,
        once; the version it replaces becomes ``previous``, and the version records when it went live."""
        values: dict[str, Any] = {":v": {"N": str(version)}, ":at": {"S": at_iso}}
        update, condition = _pointer_move("published = :v, updated_at = :at", replaces, values)
        pointer = {
            "Update": {
                "TableName": self._table,
                "Key": _pointer_key(name),
                "UpdateExpression": update,
                "ConditionExpression": f"{condition} AND scheduled.version = :v",
                "ExpressionAttributeValues": values,
            }
        }
        live = [self._version_goes_live(name, version, at_iso)] if version != SHIPPED else []
        return transact(self._call, [*live, pointer], "scheduled publish") is None
