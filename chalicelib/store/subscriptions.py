"""DynamoDB adapter for notify-me subscriptions: one item per (drop, what it waits for, address), its
confirmation and its one notification each queued in the same transaction as the state they follow."""

from __future__ import annotations

from typing import Any

from chalicelib.outbox.ports import QueuedMessage
from chalicelib.shop.ports import Subscription, SubscriptionState
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.base import DynamoAdapter
from chalicelib.store.client import paginate, transact, update_if
from chalicelib.store.outbox import queue_actions


def _subscription(item: dict[str, Any]) -> Subscription:
    return Subscription(
        drop=item["drop"],
        email=item["email"],
        locale=item["locale"],
        sku=item.get("sku"),
        size=item.get("size"),
        state=SubscriptionState(item["state"]),
        created_at=item["created_at"],
    )


class DynamoSubscriptions(DynamoAdapter):
    def subscription(self, drop: str, key: str) -> Subscription | None:
        raw = self._read(schema.subscription_key(drop, key))
        return None if raw is None else _subscription(from_item(raw))

    def subscribe(self, subscription: Subscription, confirm: QueuedMessage) -> bool:
        """Record the request and queue its confirmation, unless it was asked for before."""
        fields = {
            "drop": subscription.drop,
            "email": subscription.email,
            "locale": subscription.locale,
            "sku": subscription.sku,
            "size": subscription.size,
            "state": subscription.state.value,
            "created_at": subscription.created_at,
        }
        put = {
            "TableName": self._table,
            "Item": {**schema.subscription_key(subscription.drop, subscription.key), **to_item(fields)},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": schema.PK},
        }
        return transact(self._call, [{"Put": put}, *queue_actions(self._table, confirm)], "subscription") is None

    def confirm(self, drop: str, key: str, at_iso: str) -> bool:
        return update_if(
            self._call,
            TableName=self._table,
            Key=schema.subscription_key(drop, key),
            UpdateExpression="SET #state = :confirmed, confirmed_at = :at",
            ConditionExpression="#state = :pending OR (#state = :confirmed AND confirmed_at = :at)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":confirmed": {"S": SubscriptionState.CONFIRMED.value},
                ":pending": {"S": SubscriptionState.PENDING.value},
                ":at": {"S": at_iso},
            },
        )

    def waiting(self, drop: str) -> list[Subscription]:
        """The drop's confirmed subscribers not yet told."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": "#state = :confirmed",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#state": "state"},
            "ExpressionAttributeValues": {
                ":pk": {"S": schema.notify_partition(drop)},
                ":confirmed": {"S": SubscriptionState.CONFIRMED.value},
            },
        }
        return [_subscription(from_item(raw)) for raw in paginate(self._call, "query", **kwargs)]

    def notify(self, subscription: Subscription, message: QueuedMessage, at_iso: str) -> bool:
        """Mark the subscriber told and queue their message, once."""
        update = {
            "TableName": self._table,
            "Key": schema.subscription_key(subscription.drop, subscription.key),
            "UpdateExpression": "SET #state = :notified, notified_at = :at",
            "ConditionExpression": "#state = :confirmed",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":notified": {"S": SubscriptionState.NOTIFIED.value},
                ":confirmed": {"S": SubscriptionState.CONFIRMED.value},
                ":at": {"S": at_iso},
            },
        }
        return transact(self._call, [{"Update": update}, *queue_actions(self._table, message)], "subscription") is None
