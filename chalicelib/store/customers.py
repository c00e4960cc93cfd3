"""Customers in the table: a profile per customer (``CUSTOMER#<hash>``/``PROFILE``: first seen, the
pop-up where they first bought, purchases) and a marker per drop and pop-up they bought at
(``AT#<slug>#<popup>``), so a customer counts once per pop-up however often they buy there."""

from __future__ import annotations

from chalicelib.customers.ports import Known, Sighting
from chalicelib.store import schema
from chalicelib.store.base import DynamoAdapter
from chalicelib.store.client import condition_failed


class DynamoCustomers(DynamoAdapter):
    def see(self, sighting: Sighting) -> Known:
        buying = sighting.purchase and sighting.popup is not None
        update = "SET first_seen = if_not_exists(first_seen, :at)"
        values: dict[str, dict[str, str]] = {":at": {"S": sighting.at}}
        if buying:
            update += ", first_popup = if_not_exists(first_popup, :popup) ADD purchases :one"
            values |= {":popup": {"S": str(sighting.popup)}, ":one": {"N": "1"}}
        before = self._call(
            "update_item",
            TableName=self._table,
            Key=schema.customer_profile_key(sighting.customer),
            UpdateExpression=update,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        ).get("Attributes", {})
        if not buying:
            return Known(False, False, before.get("first_popup", {}).get("S"))
        first_here = True
        try:
            self._call(
                "put_item",
                TableName=self._table,
                Item={
                    **schema.customer_at_key(sighting.customer, sighting.drop, str(sighting.popup)),
                    "at": {"S": sighting.at},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as error:
            if not condition_failed(error):
                raise
            first_here = False
        first_purchase = int(before.get("purchases", {}).get("N", "0")) == 0
        return Known(first_purchase, first_here, before.get("first_popup", {}).get("S") or sighting.popup)
