"""DynamoDB adapter for try-ons: the request with its hold, the staff queue, and the QR funnel counters.

A try-on request is one TransactWriteItems: a hold of one unit on the stock item (``available >= 1``),
one of the visitor's few try-on places (free, or holding an expired try-on), the try-on record and
its funnel count. Either all of it happens or none, so neither stock nor a visitor's limit can be
overrun by concurrent requests.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.stock.ports import Hold, OutOfStock, PlaceTaken, VisitorPlace
from chalicelib.store import schema
from chalicelib.store.attributes import counter_attribute, from_item, to_item
from chalicelib.store.base import number
from chalicelib.store.client import index_items, paginate, transact, update_if
from chalicelib.store.stock import FREE_OR_EXPIRED, ShardedStock, hold_update, place_update, ref_key, total_shortage
from chalicelib.tryon.ports import FunnelStep, Outcome, TryOn, TryOnClaim, TryOnState


class DynamoTryOns(ShardedStock):
    # --- reads ---------------------------------------------------------------------------------

    def tryon(self, tryon_id: str) -> TryOn | None:
        raw = self._read(schema.tryon_key(tryon_id))
        return None if raw is None else tryon_from_item(from_item(raw))

    def visitor_places(self, visitor_id: str) -> dict[str, VisitorPlace]:
        """The visitor's try-on places by attribute (``s0`` …), live or expired."""
        raw = self._read(schema.visitor_tryons_key(visitor_id))
        item = from_item(raw) if raw else {}
        return {
            name: VisitorPlace(value["id"], value["exp"])
            for name, value in item.items()
            if name.startswith("s") and isinstance(value, dict)
        }

    def queue(self, popup: str, since_id: str) -> list[TryOn]:
        """The pop-up's try-ons requested since ``since_id`` (ids sort by time), oldest first.

        From the pop-up's index, so it may lag a write by a moment: fine for a queue on a screen,
        while every change of state is conditioned on the record itself."""
        partition = schema.tryons_index_partition(popup)
        items = index_items(self._call, self._table, partition, "#sk >= :since", {":since": since_id})
        return [tryon_from_item(item) for item in items]

    def funnel(self, slug: str) -> dict[tuple[str, str, str], dict[str, int]]:
        """The drop's funnel counts per (SKU, pop-up, local day)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": schema.PK},
            "ExpressionAttributeValues": {":pk": {"S": schema.funnel_partition(slug)}},
        }
        steps = {step.value for step in FunnelStep}
        numbers: dict[tuple[str, str, str], dict[str, int]] = {}
        for raw in paginate(self._call, "query", **kwargs):
            sku, _, popup = raw[schema.SK]["S"].partition("#")
            for name, value in raw.items():
                step, _, day = name.partition("@")
                if day and step in steps:
                    numbers.setdefault((sku, popup, day), {})[step] = int(value["N"])
        return numbers

    # --- writes --------------------------------------------------------------------------------

    def count(self, slug: str, sku: str, popup: str, step: FunnelStep, day: date) -> None:
        """Add one to a funnel step (a scan: nothing else changes with it)."""
        self._call("update_item", **self._funnel_add(slug, sku, popup, step, day))

    def next_ticket(self, popup: str, day: date, expires_epoch: int) -> int:
        answer = self._call(
            "update_item",
            TableName=self._table,
            Key=schema.queue_counter_key(popup, day),
            UpdateExpression="ADD #last :one SET #ttl = :ttl",
            ExpressionAttributeNames={"#last": "last", "#ttl": schema.TTL_ATTRIBUTE},
            ExpressionAttributeValues={":one": number(1), ":ttl": number(expires_epoch)},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["last"]["N"])

    def request(self, claim: TryOnClaim, now_epoch: int) -> TryOn:
        """Hold one unit, take the visitor's place and record the try-on, all or nothing; returns
        the try-on with the shard its unit is held on. A sharded size keeps ``claim.keep`` pieces
        for buyers as its shards were read (a single item keeps them in the write's condition).
        Raises OutOfStock (with the units expired holds still sit on) or PlaceTaken."""
        now = datetime.fromtimestamp(now_epoch, UTC)
        order, keep = [0], claim.keep
        if claim.shards > 1:
            items = self.shard_items(claim.tryon.ref)
            if sum(max(int(item["available"]), 0) for item in items.values()) < 1 + claim.keep:
                raise OutOfStock([total_shortage(claim.tryon.ref, 1, items.values(), now_epoch)])
            order, keep = self.shards_to_try(claim.tryon.ref, 1, claim.shards, now), 0
        while True:
            tryon = replace(claim.tryon, shard=order[0])
            ref = tryon.ref
            stock = hold_update(self._table, ref, Hold(tryon.tryon_id, 1, tryon.hold_expires_at), keep)
            key, values = schema.visitor_tryons_key(tryon.visitor), {":now": number(now_epoch)}
            place = place_update(
                self._table, key, tryon.place, tryon.tryon_id, tryon.hold_expires_at, FREE_OR_EXPIRED, values
            )
            indexed = {
                **asdict(tryon),
                "state": tryon.state.value,
                schema.GSI1_PK: schema.tryons_index_partition(ref.location),
                schema.GSI1_SK: tryon.tryon_id,
            }
            put = {
                "TableName": self._table,
                "Item": {**schema.tryon_key(tryon.tryon_id), **to_item(indexed)},
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": schema.PK},
            }
            funnel = self._funnel_add(ref.slug, ref.sku, ref.location, FunnelStep.TRYON_REQUESTED, claim.day)
            reasons = transact(
                self._call, [{"Update": stock}, {"Update": place}, {"Put": put}, {"Update": funnel}], "try-on"
            )
            if reasons is None:
                return tryon
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                self._next_shards([order], [0], [(ref, 1)], [reasons[0].get("Item")], claim.shards, now_epoch)
                continue
            if reasons[1].get("Code") == "ConditionalCheckFailed":
                raise PlaceTaken(tryon.place)
            raise AssertionError(f"a new try-on id collided: {tryon.tryon_id}")  # pragma: no cover - 24 random bits

    def move(
        self,
        tryon_id: str,
        to: TryOnState,
        from_states: tuple[TryOnState, ...],
        at_iso: str,
        counted: tuple[str, str, str, date] | None = None,
    ) -> bool:
        """Move a try-on to ``to`` if it is in one of ``from_states``; True only for the call that moved
        it. ``counted`` (drop, SKU, pop-up, day) adds the step's funnel count in the same transaction."""
        names = {"#state": "state", "#at": f"{to.value}_at"}
        values: dict[str, Any] = {":to": {"S": to.value}, ":at": {"S": at_iso}}
        allowed = []
        for index, state in enumerate(from_states):
            values[f":from{index}"] = {"S": state.value}
            allowed.append(f":from{index}")
        update = {
            "TableName": self._table,
            "Key": schema.tryon_key(tryon_id),
            "UpdateExpression": "SET #state = :to, #at = :at",
            "ConditionExpression": f"#state IN ({', '.join(allowed)})",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        actions: list[dict[str, Any]] = [{"Update": update}]
        if counted is not None and to is TryOnState.COMPLETED:
            slug, sku, popup, day = counted
            actions.append({"Update": self._funnel_add(slug, sku, popup, FunnelStep.TRYON_COMPLETED, day)})
        return transact(self._call, actions, "try-on") is None

    def call(self, tryon: TryOn, until_epoch: int, at_iso: str) -> bool:
        """Staff call a waiting shopper: the try-on, its unit and the visitor's place are all kept until
        ``until_epoch``, in one transaction; False if the try-on was no longer waiting or its hold had
        gone (an expiry released it)."""
        until = number(until_epoch)
        record = {
            "TableName": self._table,
            "Key": schema.tryon_key(tryon.tryon_id),
            "UpdateExpression": "SET #state = :called, #at = :at, hold_expires_at = :until",
            "ConditionExpression": "#state = :waiting",
            "ExpressionAttributeNames": {"#state": "state", "#at": f"{TryOnState.CALLED.value}_at"},
            "ExpressionAttributeValues": {
                ":called": {"S": TryOnState.CALLED.value},
                ":waiting": {"S": TryOnState.WAITING.value},
                ":at": {"S": at_iso},
                ":until": until,
            },
        }
        unit = {
            "TableName": self._table,
            "Key": ref_key(tryon.ref),
            "UpdateExpression": "SET holds.#h.exp = :until",
            "ConditionExpression": "attribute_exists(holds.#h)",
            "ExpressionAttributeNames": {"#h": tryon.tryon_id},
            "ExpressionAttributeValues": {":until": until},
        }
        place = {
            "TableName": self._table,
            "Key": schema.visitor_tryons_key(tryon.visitor),
            "UpdateExpression": "SET #place.exp = :until",
            "ConditionExpression": "#place.id = :id",
            "ExpressionAttributeNames": {"#place": tryon.place},
            "ExpressionAttributeValues": {":until": until, ":id": {"S": tryon.tryon_id}},
        }
        return transact(self._call, [{"Update": record}, {"Update": unit}, {"Update": place}], "try-on") is None

    def free_place(self, visitor_id: str, place: str, tryon_id: str) -> bool:
        """Give the visitor's place back, if this try-on still holds it."""
        return update_if(
            self._call,
            TableName=self._table,
            Key=schema.visitor_tryons_key(visitor_id),
            UpdateExpression="REMOVE #place",
            ConditionExpression="#place.id = :id",
            ExpressionAttributeNames={"#place": place},
            ExpressionAttributeValues={":id": {"S": tryon_id}},
        )

    def link(self, tryon: TryOn, outcome: Outcome, value: str, step: FunnelStep, day: date) -> bool:
        """Record once that a try-on led to a booking or a sale (``field`` = its code or sale id), and
        count it in the funnel in the same transaction; False if it was already linked."""
        update = {
            "TableName": self._table,
            "Key": schema.tryon_key(tryon.tryon_id),
            "UpdateExpression": "SET #field = :value",
            "ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(#field)",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#field": outcome},
            "ExpressionAttributeValues": {":value": {"S": value}},
        }
        funnel = self._funnel_add(tryon.drop, tryon.sku, tryon.popup, step, day)
        return transact(self._call, [{"Update": update}, {"Update": funnel}], "try-on") is None

    def _funnel_add(self, slug: str, sku: str, popup: str, step: FunnelStep, day: date) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": schema.funnel_key(slug, sku, popup),
            "UpdateExpression": "ADD #step :one",
            "ExpressionAttributeNames": {"#step": counter_attribute(step, day)},
            "ExpressionAttributeValues": {":one": number(1)},
        }


def tryon_from_item(item: dict[str, Any]) -> TryOn:
    return TryOn(
        tryon_id=item["tryon_id"],
        drop=item["drop"],
        generation=item.get("generation", 0),
        sku=item["sku"],
        size=item["size"],
        popup=item["popup"],
        timezone=item["timezone"],
        visitor=item["visitor"],
        place=item["place"],
        state=TryOnState(item["state"]),
        requested_at=item["requested_at"],
        hold_expires_at=item["hold_expires_at"],
        ticket=item.get("ticket", 0),
        booking=item.get("booking"),
        sale_id=item.get("sale_id"),
        shard=item.get("shard", 0),
    )
