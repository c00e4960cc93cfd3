"""The lazily built low-level DynamoDB client and the one place its errors become domain errors.

The SDK costs about 0.3 s to import and build a client, so nothing here runs at import time: the
first request that needs DynamoDB pays for it, and paths that don't need it never do.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from chalicelib import telemetry
from chalicelib.config import settings
from chalicelib.core.errors import Unavailable
from chalicelib.store import schema
from chalicelib.store.breaker import breaker
from chalicelib.telemetry import call_stats

DynamoDBClient = Any  # botocore builds the client class at run time
Call = Callable[..., dict[str, Any]]
"""``call`` or a stand-in with its signature (adapters take one, so tests can inject failures)."""

_client: DynamoDBClient | None = None

# DynamoDB says "slow down" or "try again" with these; the request may be retried by the caller.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
"""DynamoDB refused for load: on-demand's per-partition limits (a hot item) or the table's."""
# Leave this much of the Lambda's remaining time for rendering an answer.
DEADLINE_MARGIN_SECONDS = 0.25


@lru_cache(maxsize=1)
def _models() -> Any:
    """botocore's loader of service models (``DynamoDBModels``): read-only once parsed, so a client
    built anew (after a SnapStart restore drops the old one with its connections and credentials)
    does not parse DynamoDB's model again (measured: 73 ms of CPU for a new session's client, 10 ms
    with this)."""
    from chalicelib.store.models_loader import DynamoDBModels

    return DynamoDBModels()


def dynamodb() -> DynamoDBClient:
    """The process's DynamoDB client, built on first use: its own botocore session (so its own
    credentials), sharing the parsed service models, parsing items with ``ItemParser``.

    botocore builds it, as boto3's ``Session.client`` would (the same low-level client): importing
    boto3 itself adds its resource layer and s3transfer, which this client never uses (decision 106)."""
    global _client
    if _client is None:
        import botocore.session
        from botocore.config import Config

        from chalicelib.store.item_parser import ItemParserFactory

        core = botocore.session.get_session()
        core.register_component("data_loader", _models())
        core.register_component("response_parser_factory", ItemParserFactory())
        s = settings()
        _client = core.create_client(
            "dynamodb",
            region_name=s.region,
            endpoint_url=s.dynamodb_endpoint,
            config=Config(
                connect_timeout=s.dynamodb_connect_timeout,
                read_timeout=s.dynamodb_read_timeout,
                retries={"mode": "standard", "total_max_attempts": s.dynamodb_max_attempts},
                tcp_keepalive=True,
            ),
        )
    return _client


def reset_client() -> None:
    """Forget the client (tests point the app at a fresh endpoint)."""
    global _client
    _client = None
    breaker.answered()  # and whatever the old endpoint did


@contextmanager
def _mapped_errors(operation: str) -> Iterator[None]:
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    try:
        yield
    except (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError, ConnectionClosedError) as error:
        breaker.unanswered()
        raise Unavailable(f"DynamoDB {operation} did not answer: {type(error).__name__}") from error
    except ClientError as error:
        breaker.answered()  # a refusal is an answer
        code = error.response.get("Error", {}).get("Code", "")
        if code in THROTTLING_CODES:
            telemetry.dynamodb_contention("Throttled", operation)  # after botocore's own backed-off retries
        if code in RETRYABLE_CODES or code == "ResourceNotFoundException":
            raise Unavailable(f"DynamoDB {operation} failed: {code}") from error
        raise
    except BaseException:
        breaker.inconclusive()  # nothing learnt about DynamoDB (a bad parameter)
        raise
    else:
        breaker.answered()


def call(operation: str, **kwargs: Any) -> dict[str, Any]:
    """Run one client operation (e.g. ``"query"``), counted, inside the deadline, errors mapped."""
    stats = call_stats
    if stats.deadline is not None and time.monotonic() > stats.deadline - DEADLINE_MARGIN_SECONDS:
        raise Unavailable(f"no time left for DynamoDB {operation}")
    breaker.before_call()
    method: Callable[..., dict[str, Any]] = getattr(dynamodb(), operation)
    started = time.perf_counter()
    try:
        with _mapped_errors(operation):
            return method(**kwargs)
    finally:
        stats.calls += 1
        stats.seconds += time.perf_counter() - started


def read_item(call: Call, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """One item, read consistently (for decisions, never for display), as its raw attributes."""
    item: dict[str, Any] | None = call("get_item", TableName=table, Key=key, ConsistentRead=True).get("Item")
    return item


def paginate(call: Call, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every raw item of a ``query`` or ``scan``, page after page."""
    while True:
        page = call(operation, **kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": page["LastEvaluatedKey"]}


BATCH_GET_KEYS = 100
UNPROCESSED_ROUNDS = 5


def batch_items(
    call: Call, table: str, keys: list[dict[str, Any]], **options: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """The items at ``keys`` (raw, by (pk, sk)) in as few BatchGetItem calls as DynamoDB allows, keys
    it left unprocessed asked for again; ``options`` (``ConsistentRead``, a projection) apply to all.
    Keys still unread after a few rounds are ``Unavailable`` rather than silently missing."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {table: {"Keys": keys[start : start + BATCH_GET_KEYS], **options}}
        for _ in range(UNPROCESSED_ROUNDS):
            page = call("batch_get_item", RequestItems=request)
            for raw in page.get("Responses", {}).get(table, []):
                found[schema.key_of(raw)] = raw
            request = page.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise Unavailable("DynamoDB left keys of a batch read unprocessed; try again")
    return found


BATCH_WRITE_ITEMS = 25


def batch_write(call: Call, table: str, requests: Sequence[dict[str, Any]]) -> Iterator[int]:
    """Run ``PutRequest``/``DeleteRequest`` entries in BatchWriteItem calls of 25, yielding the count
    written after each; items DynamoDB left unprocessed are sent again, then ``Unavailable``."""
    for start in range(0, len(requests), BATCH_WRITE_ITEMS):
        request: dict[str, Any] = {table: list(requests[start : start + BATCH_WRITE_ITEMS])}
        for _ in range(UNPROCESSED_ROUNDS):
            page = call("batch_write_item", RequestItems=request)
            request = page.get("UnprocessedItems") or {}
            if not request:
                break
        else:
            raise Unavailable("DynamoDB left items of a batch write unprocessed; try again")
        yield min(start + BATCH_WRITE_ITEMS, len(requests))


def add_counters(table: str, key: dict[str, Any], counts: Mapping[str, int]) -> dict[str, Any]:
    """The body of an ``Update`` (alone or in a transaction) that adds each of ``counts`` to the
    item's attribute of that name, creating it at 0 if absent."""
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values = {f":c{i}": {"N": str(value)} for i, value in enumerate(counts.values())}
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def index_items(
    call: Call,
    table: str,
    partition: str,
    sort: str = "",
    values: dict[str, Any] | None = None,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Every item of a ``gsi1`` partition, converted, in sort-key order: ``sort`` narrows it with a
    condition on ``#sk`` (e.g. ``#sk >= :since``) whose ``values`` are plain strings."""
    from chalicelib.store import schema
    from chalicelib.store.attributes import from_item

    condition = "#pk = :pk" + (f" AND {sort}" if sort else "")
    names = {"#pk": schema.GSI1_PK, **({"#sk": schema.GSI1_SK} if sort else {})}
    typed = {":pk": {"S": partition}, **{name: {"S": value} for name, value in (values or {}).items()}}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": schema.GSI1,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": typed,
        "ScanIndexForward": not newest_first,
    }
    return [from_item(raw) for raw in paginate(call, "query", **kwargs)]


def error_code(error: Exception) -> str:
    """A botocore ClientError's code ("" for anything else)."""
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def condition_failed(error: Exception) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


def update_if(call: Call, **kwargs: Any) -> bool:
    """One conditional ``UpdateItem``: True if it applied, False if its condition failed.

    botocore retries a call whose reply timed out, and the first try may have applied: a condition
    should also admit the item exactly as this call leaves it (its own timestamp or token), so the
    retry answers True rather than "someone else changed it"."""
    try:
        call("update_item", **kwargs)
    except Exception as error:
        if not condition_failed(error):
            raise
        return False
    return True


def cancellation_reasons(error: Exception) -> list[dict[str, Any]] | None:
    """Per action, why a TransactWriteItems was cancelled (``Code`` and, when asked for, the old
    ``Item``); None if ``error`` is not a cancelled transaction."""
    if error_code(error) != "TransactionCanceledException":
        return None
    response = getattr(error, "response", {})
    reasons = response.get("CancellationReasons")
    return list(reasons) if isinstance(reasons, list) else []


CONFLICT_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 0.025
BACKOFF_CAP_SECONDS = 0.4
UNBUDGETED_SECONDS = 2.0
"""How long conflicts are retried when the request has no deadline (a script, a test)."""


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter (AWS's "exponential backoff and jitter"): a random wait up to an exponentially
    growing cap, so writers that collided on a hot item do not collide again in step. ``rng``: a
    seeded generator (the load model's), else the process's."""
    cap = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return (rng or random).uniform(0, cap)


def transact(call: Call, actions: Iterable[dict[str, Any]], what: str) -> list[dict[str, Any]] | None:
    """Run a TransactWriteItems; None when it committed, else why each action was cancelled. A
    ``ClientRequestToken`` per call makes botocore's own retries (after a timeout) idempotent on
    DynamoDB. A TransactionConflict (another transaction on one of its items) is counted and retried
    after a jittered backoff while the request's time allows, then reported as unavailable (503
    with Retry-After)."""
    items = list(actions)
    deadline = call_stats.deadline
    give_up = (deadline - DEADLINE_MARGIN_SECONDS) if deadline is not None else time.monotonic() + UNBUDGETED_SECONDS
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            call("transact_write_items", TransactItems=items, ClientRequestToken=uuid.uuid4().hex)
        except Exception as error:
            reasons = cancellation_reasons(error)
            if reasons is None:
                raise
            if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                return reasons
            if not any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                raise
            telemetry.dynamodb_contention("TransactionConflict", what)
            wait = backoff(attempt)
            if time.monotonic() + wait >= give_up:
                break
            time.sleep(wait)
            continue
        return None
    raise Unavailable(f"The {what} met a concurrent change too many times; please retry.", code="contention")
