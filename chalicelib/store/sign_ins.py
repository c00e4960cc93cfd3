"""DynamoDB adapter for the studio's sign-ins: sessions ended by logging out (so a copied cookie dies
with the logout, on every Lambda instance), and failed logins counted per address and window."""

from __future__ import annotations

import time

from chalicelib.store import schema
from chalicelib.store.base import DynamoAdapter, number, number_of
from chalicelib.store.client import update_if


class DynamoSignIns(DynamoAdapter):
    def end_session(self, session_id: str, until: int) -> None:
        item = {**schema.ended_session_key(session_id), schema.TTL_ATTRIBUTE: number(until)}
        self._call("put_item", TableName=self._table, Item=item)

    def session_ended(self, session_id: str) -> bool:
        raw = self._read(schema.ended_session_key(session_id))
        return raw is not None and number_of(raw, schema.TTL_ATTRIBUTE) > time.time()

    def take_login_attempt(self, address_hash: str, window: int, limit: int, until: int) -> bool:
        """Count one attempt against the address's window; False (nothing counted) once ``limit``
        attempts have been counted there. Taking it is one conditional write, so a burst of guesses
        cannot all pass a read that saw room."""
        return update_if(
            self._call,
            TableName=self._table,
            Key=schema.login_attempts_key(address_hash, window),
            UpdateExpression="ADD attempts :one SET #ttl = :until",
            ConditionExpression="attribute_not_exists(attempts) OR attempts < :limit",
            ExpressionAttributeNames={"#ttl": schema.TTL_ATTRIBUTE},
            ExpressionAttributeValues={":one": number(1), ":limit": number(limit), ":until": number(until)},
        )

    def give_back_login_attempt(self, address_hash: str, window: int) -> None:
        """A login that succeeded (or failed for our reasons, not the token's) does not count."""
        self._call(
            "update_item",
            TableName=self._table,
            Key=schema.login_attempts_key(address_hash, window),
            UpdateExpression="ADD attempts :minus",
            ExpressionAttributeValues={":minus": number(-1)},
        )
