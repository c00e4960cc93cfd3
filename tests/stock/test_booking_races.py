"""Booking edge cases that need real concurrency or a lost reply, against moto's server over a socket,
with the size on one stock item and on 8 shards."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from chalicelib import wiring
from chalicelib.stock.pickup import cancel_pickup
from chalicelib.stock.ports import BookingState, StockRef
from chalicelib.store.client import dynamodb
from devtools import flash_sale

NOW = datetime.now(UTC)
TOTE = StockRef("linen-lab", 0, flash_sale.SKU, flash_sale.SIZE, flash_sale.POPUP)


@pytest.fixture(params=[1, 8], ids=["N=1", "N=8"])
def slots(moto_table: str, request: pytest.FixtureRequest) -> list[str]:
    """Three pieces on one stock item, or spread over the drop's 8 shards (three of them)."""
    sale = flash_sale.FlashSale(units=3, buyers=0, threads=1, shards=request.param)
    return flash_sale.prepare(moto_table, sale, NOW)


def available() -> int:
    shards = wiring.stock().shard_items(TOTE)
    assert shards
    return sum(int(item["available"]) for item in shards.values())


def test_the_same_key_at_once_from_two_threads_books_once(slots: list[str]) -> None:
    barrier = threading.Barrier(2)

    def attempt(_: int) -> tuple[int, dict[str, Any]]:
        barrier.wait()
        return flash_sale.one_booking(slots[0], "same-key-from-two-threads", NOW)

    dynamodb()  # one shared client, built before the threads
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(attempt, range(2))
    assert first == second
    assert first[0] == 201
    assert available() == 2


@pytest.fixture
def reply_lost_after_commit() -> Iterator[list[str]]:
    """The first TransactWriteItems reaches moto and commits, then the client times out reading the
    reply; botocore retries it as it would on AWS."""
    sent: list[str] = []

    def deliver_then_time_out(request: Any, **_: Any) -> None:
        if sent:
            return None
        forwarded = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers))
        with urllib.request.urlopen(forwarded, timeout=30) as reply:
            sent.append(reply.read().decode())
        raise ReadTimeoutError(endpoint_url=request.url)

    events = dynamodb().meta.events
    events.register_first("before-send.dynamodb.TransactWriteItems", deliver_then_time_out)
    try:
        yield sent
    finally:
        events.unregister("before-send.dynamodb.TransactWriteItems", deliver_then_time_out)


def test_a_retry_after_a_lost_reply_books_exactly_once(slots: list[str], reply_lost_after_commit: list[str]) -> None:
    status, body = flash_sale.one_booking(slots[0], "lost-reply-key-1", NOW)
    assert reply_lost_after_commit, "the injected timeout did not fire"
    assert status == 201
    assert available() == 2  # one decrement
    again = flash_sale.one_booking(slots[0], "lost-reply-key-1", NOW)
    assert again == (201, body)
    assert available() == 2


def test_cancelling_twice_at_once_releases_once(slots: list[str]) -> None:
    status, booked = flash_sale.one_booking(slots[0], "cancel-race-key", NOW)
    assert status == 201 and available() == 2
    barrier = threading.Barrier(2)

    def cancel(_: int) -> bool:
        barrier.wait()
        return bool(cancel_pickup(wiring.bookings(), booked["code"], booked["cancel_token"], NOW)["changed"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        changed = list(pool.map(cancel, range(2)))
    assert sorted(changed) == [False, True]
    assert available() == 3
    booking = wiring.bookings().booking(booked["code"])
    assert booking is not None and booking.state is BookingState.CANCELLED
