"""DynamoDB adapter for try-ons: the request with its hold, the staff queue, and the QR funnel counters.

A try-on request is one TransactWriteItems: a hold of one unit on the stock item (``available >= 1``),
one of the visitor's few try-on places (free, or holding an expired try-on), the try-on record and
its funnel count. Either all of it happens or none, so neither stock nor a visitor's limit can be
overrun by concurrent requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.funnel import FunnelStep, TryOnState
from chalicelib.inventory import OutOfStock, Shortage, StockRef, counter_attribute
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.client import Call, call, index_items, paginate, read_item, transact, update_if


class PlaceTaken(Exception):
    """The visitor's try-on place was claimed by a concurrent request: read the places again."""


@dataclass(frozen=True, slots=True)
class TryOnClaim:
    """What a try-on request writes: its record, the unit it holds and the visitor place it takes."""

    record: dict[str, Any]  # tryon_id, drop, sku, size, popup, visitor, state, requested_at, hold_expires_at
    ref: StockRef
    place: str  # "s0" … the visitor item's attribute this try-on occupies
    day: date  # the pop-up's local date, for the funnel


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


class DynamoTryOns:
    def __init__(self, table_name: str, call: Call = call) -> None:
        self._table = table_name
        self._call = call

    # --- reads ---------------------------------------------------------------------------------

    def tryon(self, tryon_id: str) -> dict[str, Any] | None:
        raw = read_item(self._call, self._table, schema.tryon_key(tryon_id))
        return None if raw is None else from_item(raw)

    def visitor_places(self, visitor_id: str) -> dict[str, dict[str, Any]]:
        """The visitor's try-on places: ``{"s0": {"id": …, "exp": …}}`` (live or expired)."""
        raw = read_item(self._call, self._table, schema.visitor_tryons_key(visitor_id))
        item = from_item(raw) if raw else {}
        return {name: value for name, value in item.items() if name.startswith("s") and isinstance(value, dict)}

    def queue(self, popup: str, since_id: str) -> list[dict[str, Any]]:
        """The pop-up's try-ons requested since ``since_id`` (ids sort by time), oldest first.

        From the pop-up's index, so it may lag a write by a moment: fine for a queue on a screen,
        while every change of state is conditioned on the record itself."""
        partition = schema.tryons_index_partition(popup)
        return index_items(self._call, self._table, partition, "#sk >= :since", {":since": since_id})

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

    def request(self, claim: TryOnClaim, now_epoch: int) -> None:
        """Hold one unit, take the visitor's place and record the try-on, all or nothing.
        Raises OutOfStock (with the units expired holds still sit on) or PlaceTaken."""
        record, ref = claim.record, claim.ref
        hold = {"M": {"q": _n(1), "exp": _n(record["hold_expires_at"])}}
        stock_key = schema.stock_key(ref.slug, ref.sku, ref.size, ref.location)
        stock = {
            "TableName": self._table,
            "Key": stock_key,
            "UpdateExpression": "SET holds.#h = :hold, held = held + :one, available = available - :one",
            "ConditionExpression": "attribute_exists(#pk) AND available >= :one AND attribute_not_exists(holds.#h)",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#h": record["tryon_id"]},
            "ExpressionAttributeValues": {":hold": hold, ":one": _n(1)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        place = {
            "TableName": self._table,
            "Key": schema.visitor_tryons_key(record["visitor"]),
            "UpdateExpression": "SET #place = :place",
            "ConditionExpression": "attribute_not_exists(#place) OR #place.exp <= :now",
            "ExpressionAttributeNames": {"#place": claim.place},
            "ExpressionAttributeValues": {
                ":place": {"M": {"id": {"S": record["tryon_id"]}, "exp": _n(record["hold_expires_at"])}},
                ":now": _n(now_epoch),
            },
        }
        indexed = {
            **record,
            schema.GSI1_PK: schema.tryons_index_partition(ref.location),
            schema.GSI1_SK: record["tryon_id"],
        }
        put = {
            "TableName": self._table,
            "Item": {**schema.tryon_key(record["tryon_id"]), **to_item(indexed)},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": schema.PK},
        }
        funnel = self._funnel_add(ref.slug, ref.sku, ref.location, FunnelStep.TRYON_REQUESTED, claim.day)
        reasons = transact(
            self._call, [{"Update": stock}, {"Update": place}, {"Put": put}, {"Update": funnel}], "try-on"
        )
        if reasons is None:
            return
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            raw = reasons[0].get("Item") or read_item(self._call, self._table, stock_key)
            raise OutOfStock([_shortage(ref, from_item(raw) if raw else {}, now_epoch)])
        if reasons[1].get("Code") == "ConditionalCheckFailed":
            raise PlaceTaken(claim.place)
        raise AssertionError(
            f"a new try-on id collided: {record['tryon_id']}"
        )  # pragma: no cover - 24 random bits per ms

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

    def link(self, record: dict[str, Any], field: str, value: str, step: FunnelStep, day: date) -> bool:
        """Record once that a try-on led to a booking or a sale (``field`` = its code or sale id), and
        count it in the funnel in the same transaction; False if it was already linked."""
        update = {
            "TableName": self._table,
            "Key": schema.tryon_key(record["tryon_id"]),
            "UpdateExpression": "SET #field = :value",
            "ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(#field)",
            "ExpressionAttributeNames": {"#pk": schema.PK, "#field": field},
            "ExpressionAttributeValues": {":value": {"S": value}},
        }
        funnel = self._funnel_add(record["drop"], record["sku"], record["popup"], step, day)
        return transact(self._call, [{"Update": update}, {"Update": funnel}], "try-on") is None

    def _funnel_add(self, slug: str, sku: str, popup: str, step: FunnelStep, day: date) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": schema.funnel_key(slug, sku, popup),
            "UpdateExpression": "ADD #step :one",
            "ExpressionAttributeNames": {"#step": counter_attribute(step, day)},
            "ExpressionAttributeValues": {":one": _n(1)},
        }


def _shortage(ref: StockRef, item: dict[str, Any], now_epoch: int) -> Shortage:
    holds = item.get("holds") or {}
    expired = sum(hold["q"] for hold in holds.values() if hold["exp"] <= now_epoch)
    return Shortage(ref.sku, ref.size, 1, max(int(item.get("available", 0)), 0), releasable=expired)
