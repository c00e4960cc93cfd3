"""DynamoDB adapter for imports: a new generation of a drop's SKUs and stock is batch-written beside
the live one, then one transaction points the drop's META item at it. ``IMPORT#<slug>`` / ``JOB``
is the lease (one import per drop at a time), its progress and what it left to delete. The lease
also names the file it imports (a digest): the same file on the unchanged drop takes the lease over
and resumes from the progress recorded, rewriting at most one batch (the same items)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict, DomainError
from chalicelib.core.models import DropCatalog, Sku, iso
from chalicelib.stock.ports import STALE_AFTER, ImportJob, ImportLease, StockLine
from chalicelib.store import schema
from chalicelib.store.attributes import from_item, to_item
from chalicelib.store.audit import entry_put
from chalicelib.store.base import DynamoAdapter, number, number_of
from chalicelib.store.catalog import sku_items, stock_item
from chalicelib.store.client import batch_write, paginate, transact, update_if
from chalicelib.telemetry import logger


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class DynamoImports(DynamoAdapter):
    """Implements ``stock.ports.ProductWriter``."""

    def import_job(self, slug: str) -> ImportJob | None:
        raw = self._read(schema.import_job_key(slug))
        if raw is None:
            return None
        item = from_item(raw)
        ended = item.get("ended_at")
        return ImportJob(
            state=item["state"],
            done=item["done"],
            total=item["total"],
            by=item["by"],
            started_at=datetime.fromisoformat(item["started_at"]),
            heartbeat_at=datetime.fromtimestamp(item["heartbeat"], UTC),
            summary=item.get("summary", ""),
            ended_at=datetime.fromisoformat(ended) if ended else None,
        )

    def begin_import(self, catalog: DropCatalog, total: int, by: str, now: datetime, digest: str) -> ImportLease:
        drop = catalog.drop
        self._refuse_moved_stock(drop.slug, drop.generation)
        key = schema.import_job_key(drop.slug)
        left = self._read(key) or {}
        latest = number_of(left, "latest", -1)
        names = {"#state": "state", "#by": "by"}
        values: dict[str, Any] = {
            ":staging": {"S": "staging"},
            ":by": {"S": by},
            ":now": {"S": iso(now)},
            ":epoch": number(_epoch(now)),
            ":digest": {"S": digest},
        }
        taken = "SET job_id = :id, #state = :staging, #by = :by, started_at = :now, heartbeat = :epoch"
        resumes = left.get("digest", {}).get("S") == digest and left.get("state", {}).get("S") != "live"
        if resumes:  # the same file on the same drop: its generation is still unreachable, and part written
            lease = ImportLease(
                drop.slug, uuid.uuid4().hex, drop.revision, drop.generation, latest, number_of(left, "done")
            )
            values |= {":old": left["job_id"], ":seen": number(latest), ":live": {"S": "live"}}
            expression = f"{taken} REMOVE summary, ended_at"
            free = "job_id = :old AND digest = :digest AND latest = :seen AND #state <> :live"
        else:
            lease = ImportLease(
                drop.slug, uuid.uuid4().hex, drop.revision, drop.generation, max(latest, drop.generation) + 1
            )
            names |= {"#pk": schema.PK, "#total": "total"}
            values |= {":zero": number(0), ":total": number(total), ":stale": number(_epoch(now - STALE_AFTER))}
            values |= {":gen": number(lease.generation), ":gens": {"NS": [str(lease.generation)]}}
            expression = (
                f"{taken}, done = :zero, #total = :total, latest = :gen, digest = :digest "
                "REMOVE summary, ended_at ADD unreachable :gens"
            )
            seen = "attribute_not_exists(latest)"
            if latest >= 0:
                seen, values[":seen"] = "latest = :seen", number(latest)
            # Free (no import staging, or one silent too long), and no other import took a generation
            # since the read.
            free = f"(attribute_not_exists(#pk) OR #state <> :staging OR heartbeat <= :stale) AND {seen}"
        values[":id"] = {"S": lease.job_id}
        lease_taken = {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": expression,
            "ConditionExpression": f"job_id = :id OR ({free})",  # ``job_id = :id`` admits botocore's retry
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        reasons = transact(self._call, [{"Update": lease_taken}, {"ConditionCheck": self._unchanged(lease)}], "import")
        if reasons is not None:
            if reasons[1].get("Code") == "ConditionalCheckFailed":
                raise Conflict(
                    "Someone else changed this drop meanwhile. Reload and import again.", code="edit_conflict"
                )
            job = self.import_job(drop.slug)
            progress = f" ({job.done} of {job.total} written, started by {job.by})" if job else ""
            raise Conflict(
                f"Another import of this drop is running{progress}. Wait for it to finish, then import again.",
                code="import_running",
            )
        self._clear_unreachable(lease, left)
        return lease

    def _clear_unreachable(self, lease: ImportLease, left: dict[str, Any]) -> None:
        """Delete what earlier imports left: generations staged and never made live, and one replaced
        but not yet deleted. None of them is reachable, and their numbers are never used again."""
        gone = {int(n) for n in left.get("unreachable", {}).get("NS", [])}
        if "retired" in left:
            gone.add(number_of(left, "retired"))
        gone -= {lease.live, lease.generation}
        if not gone:
            return
        for generation in sorted(gone):
            self._delete_generation(lease.slug, generation)
        self._forget(
            lease, "REMOVE retired DELETE unreachable :gone", {":gone": {"NS": [str(n) for n in sorted(gone)]}}
        )

    def _refuse_moved_stock(self, slug: str, generation: int) -> None:
        """An import replaces stock as made: refuse it if any of the live stock is held or sold."""
        for raw in paginate(
            self._call,
            "query",
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            FilterExpression="held > :zero OR sold > :zero",
            ProjectionExpression="sk",
            ExpressionAttributeNames={"#pk": schema.PK},
            ExpressionAttributeValues={":pk": {"S": schema.stock_partition(slug, generation)}, ":zero": number(0)},
            ConsistentRead=True,
        ):
            raise Conflict(
                f"Some of this drop's stock is held or sold ({raw['sk']['S']}), so it cannot be replaced by an "
                "import; nothing was imported.",
                code="stock_moved",
            )

    def stage(
        self, lease: ImportLease, skus: Sequence[Sku], stock: Sequence[StockLine], clock: Callable[[], datetime]
    ) -> Iterator[int]:
        items = sku_items(lease.slug, lease.generation, skus)
        items += [stock_item(lease.slug, lease.generation, line) for line in stock]
        requests = [{"PutRequest": {"Item": to_item(item)}} for item in items[lease.resume_from :]]
        for written in batch_write(self._call, self._table, requests):
            done = lease.resume_from + written
            self._beat(lease, done, clock())  # the progress the page reads back, and proof of life
            yield done

    def _beat(self, lease: ImportLease, done: int, now: datetime) -> None:
        if not update_if(
            self._call,
            TableName=self._table,
            Key=schema.import_job_key(lease.slug),
            UpdateExpression="SET done = :done, heartbeat = :epoch",
            ConditionExpression="job_id = :id AND #state = :staging",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":done": number(done),
                ":epoch": number(_epoch(now)),
                ":id": {"S": lease.job_id},
                ":staging": {"S": "staging"},
            },
        ):
            raise Conflict("This import stopped: another import of the drop took over.", code="import_running")

    def go_live(self, lease: ImportLease, audit: AuditEntry, now: datetime) -> None:
        reasons = transact(
            self._call,
            [
                {"Update": self._unchanged(lease, switch=True)},
                entry_put(self._table, audit),
                {"Update": self._job_end(lease, "live", audit.summary, now)},
            ],
            "import",
        )
        if reasons is None:
            return
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            raise Conflict("Someone else changed this drop meanwhile. Reload and import again.", code="edit_conflict")
        raise Conflict("This import stopped: another import of the drop took over.", code="import_running")

    def _unchanged(self, lease: ImportLease, *, switch: bool = False) -> dict[str, Any]:
        """A condition on the drop's META item: still the revision and generation the import read.
        With ``switch``, the update that makes the staged generation live."""
        body: dict[str, Any] = {
            "TableName": self._table,
            "Key": {schema.PK: {"S": schema.drop_partition(lease.slug)}, schema.SK: {"S": schema.META}},
            "ConditionExpression": "(#rev = :rev OR (attribute_not_exists(#rev) AND :rev = :zero)) AND "
            "(#gen = :live OR (attribute_not_exists(#gen) AND :live = :zero))",
            "ExpressionAttributeNames": {"#rev": "revision", "#gen": "generation"},
            "ExpressionAttributeValues": {
                ":rev": number(lease.revision),
                ":live": number(lease.live),
                ":zero": number(0),
            },
        }
        if switch:
            body["UpdateExpression"] = "SET #rev = :next, #gen = :gen"
            body["ExpressionAttributeValues"] |= {":next": number(lease.revision + 1), ":gen": number(lease.generation)}
        return body

    def fail(self, lease: ImportLease, why: str, now: datetime) -> None:
        update_if(self._call, **self._job_end(lease, "failed", why, now))

    def retire(self, lease: ImportLease, now: datetime) -> None:
        try:
            self._delete_generation(lease.slug, lease.live)
            self._forget(lease, "REMOVE retired")
        except DomainError as error:
            logger.warning(
                "import live, its replaced generation not yet deleted: the next import deletes it",
                extra={"drop": lease.slug, "generation": lease.live, "error": error.message},
            )

    def _forget(self, lease: ImportLease, expression: str, values: dict[str, Any] | None = None) -> None:
        """Take generations just deleted off the job's list, while the lease is still this import's."""
        update_if(
            self._call,
            TableName=self._table,
            Key=schema.import_job_key(lease.slug),
            UpdateExpression=expression,
            ConditionExpression="job_id = :id",
            ExpressionAttributeValues={":id": {"S": lease.job_id}, **(values or {})},
        )

    def _job_end(self, lease: ImportLease, state: str, summary: str, now: datetime) -> dict[str, Any]:
        names = {"#state": "state"}
        values: dict[str, Any] = {
            ":state": {"S": state},
            ":summary": {"S": summary},
            ":now": {"S": iso(now)},
            ":id": {"S": lease.job_id},
            ":staging": {"S": "staging"},
        }
        expression = "SET #state = :state, summary = :summary, ended_at = :now"
        if state == "live":  # the staged generation is reachable now, and the one it replaced is not
            expression += ", done = #total, retired = :retired DELETE unreachable :gens"
            names["#total"] = "total"
            values |= {":retired": number(lease.live), ":gens": {"NS": [str(lease.generation)]}}
        return {
            "TableName": self._table,
            "Key": schema.import_job_key(lease.slug),
            "UpdateExpression": expression,
            "ConditionExpression": "job_id = :id AND #state = :staging",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _delete_generation(self, slug: str, generation: int) -> None:
        """Delete one generation's SKU and stock items: an unreachable one (staged and abandoned, or
        replaced), so nothing reads or writes them."""
        keys: list[dict[str, Any]] = []
        for partition, prefix in (
            (schema.drop_partition(slug), schema.sku_prefix(generation)),
            (schema.stock_partition(slug, generation), None),
        ):
            condition, values = "#pk = :pk", {":pk": {"S": partition}}
            if prefix is not None:
                condition, values = f"{condition} AND begins_with(#sk, :prefix)", values | {":prefix": {"S": prefix}}
            keys += paginate(
                self._call,
                "query",
                TableName=self._table,
                KeyConditionExpression=condition,
                ProjectionExpression="#pk, #sk",
                ExpressionAttributeNames={"#pk": schema.PK, "#sk": schema.SK},
                ExpressionAttributeValues=values,
            )
        for _ in batch_write(self._call, self._table, [{"DeleteRequest": {"Key": key}} for key in keys]):
            pass
