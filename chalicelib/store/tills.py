"""DynamoDB adapter for pop-up tills: their tokens (issued, revoked) and door-counter readings."""

from __future__ import annotations

from datetime import date

from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.base import DynamoAdapter
from chalicelib.store.client import cancellation_reasons, index_items
from chalicelib.tills.ports import Till


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

    def add_footfall(self, popup: str, at_iso: str, entered: int, day: date) -> bool:
        """Record one reading and add it to its day's total, once: False if it was recorded before."""
        try:
            self._call(
                "transact_write_items",
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {**schema.footfall_key(popup, at_iso), "entered": {"N": str(entered)}},
                            "ConditionExpression": "attribute_not_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": schema.PK},
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": schema.footfall_key(popup, f"DAY#{day.isoformat()}"),
                            "UpdateExpression": "ADD entered :n",
                            "ExpressionAttributeValues": {":n": {"N": str(entered)}},
                        }
                    },
                ],
            )
        except Exception as error:
            reasons = cancellation_reasons(error)
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True
