"""A hot item's contention: a transaction cancelled for a TransactionConflict (another transaction on
one of its items) is counted and tried again after a jittered backoff, and once the request's time
is spent the shopper gets a 503 with Retry-After, never a 500. DynamoDB's answer is injected on the
wire, ahead of moto, as botocore would receive it."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from chalice.test import Client
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.store.client import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, CONFLICT_ATTEMPTS, backoff, dynamodb
from devtools.process import forget_process_state
from tests.conftest import json_of
from tests.stock.test_pickup import book, first_slot, order

__all__ = ["first_slot"]
EVENT = "before-send.dynamodb.TransactWriteItems"


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def conflicted(request: Any, **_: Any) -> AWSResponse:
    items = len(json.loads(request.body)["TransactItems"])
    body = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
        "CancellationReasons": [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
        + [{"Code": "None"}] * (items - 1),
    }
    return AWSResponse(
        request.url, 400, {"x-amzn-ErrorType": "TransactionCanceledException"}, _Body(json.dumps(body).encode())
    )


@pytest.fixture
def conflicts(client: Client) -> Iterator[Callable[[int], list[float]]]:
    """``conflicts(n)``: the next ``n`` transactions meet a conflict; returns when each was sent."""
    forget_process_state()
    installed: list[Callable[..., Any]] = []

    def install(n: int) -> list[float]:
        sent: list[float] = []

        def handler(**kwargs: Any) -> AWSResponse | None:
            sent.append(time.monotonic())
            return conflicted(**kwargs) if len(sent) <= n else None

        dynamodb().meta.events.register_first(EVENT, handler)
        installed.append(handler)
        return sent

    yield install
    for handler in installed:
        dynamodb().meta.events.unregister(EVENT, handler)


def test_a_booking_that_meets_conflicts_is_retried_after_a_backoff_and_lands(
    client: Client, first_slot: str, conflicts: Callable[[int], list[float]], capsys: pytest.CaptureFixture[str]
) -> None:
    sent = conflicts(2)
    booked = book(client, order(first_slot, ("TEE-ECRU", "M", 1)))
    assert booked.status_code == 201, booked.body
    assert len(sent) == 3  # two conflicts, then the one that committed
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert all(gap <= BACKOFF_CAP_SECONDS + 0.5 for gap in gaps)
    counted = [line for line in capsys.readouterr().out.splitlines() if '"DynamoDBContention"' in line]
    assert len(counted) == 2  # one metric per conflict, for the alarm


def test_endless_conflicts_end_in_a_503_with_retry_after_within_the_budget(
    client: Client, first_slot: str, conflicts: Callable[[int], list[float]]
) -> None:
    sent = conflicts(1_000)
    started = time.monotonic()
    refused = book(client, order(first_slot, ("TEE-ECRU", "M", 1)))
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert json_of(refused)["error"]["code"] == "contention"
    assert 2 <= len(sent) <= CONFLICT_ATTEMPTS
    assert time.monotonic() - started < 10.0  # a bounded number of short waits, not an endless loop


@given(st.integers(0, 30))
def test_each_backoff_is_a_random_wait_under_a_growing_cap(attempt: int) -> None:
    waits = [backoff(attempt) for _ in range(20)]
    assert all(0 <= wait <= min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt) for wait in waits)
    assert len(set(waits)) > 1  # jittered: two writers that collided do not retry in step
