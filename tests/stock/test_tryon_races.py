"""Try-on holds under real concurrency: many clients at once against moto's server over a socket."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.core.errors import DomainError
from chalicelib.stock.ports import StockRef
from chalicelib.store.client import dynamodb
from chalicelib.tryon.tags import Tag, scan_claim, tag_token
from chalicelib.tryon.tryons import TryOnRequest, request_tryon, staff_act
from chalicelib.web.errors import status_for
from devtools import flash_sale

NOW = datetime.now(UTC)
UNITS = 5
KEPT = 1  # the pop-up's default keep_for_buyers
TOTE = StockRef("linen-lab", 0, flash_sale.SKU, flash_sale.SIZE, flash_sale.POPUP)


@pytest.fixture
def stocked(moto_table: str) -> int:
    flash_sale.prepare(moto_table, flash_sale.FlashSale(units=UNITS, buyers=0, threads=1), NOW)
    return UNITS


def try_on(visitor: str, now: datetime = NOW) -> tuple[int, dict[str, Any]]:
    """A try-on by ``visitor``, with the scan claim the tag's page gave them."""
    tag = Tag(flash_sale.POPUP, flash_sale.SKU)
    request = TryOnRequest(qr_token=tag_token(tag), scan=scan_claim(tag, visitor), size=flash_sale.SIZE)
    try:
        return 201, request_tryon(wiring.tryons(), wiring.stock(), wiring.catalog(), visitor, request, now)
    except DomainError as error:
        return status_for(error), {"code": error.code}


def at_once(count: int, visitor_of: Any) -> list[tuple[int, dict[str, Any]]]:
    """``count`` try-on requests released together from as many threads."""
    barrier = threading.Barrier(count)
    dynamodb()  # one shared client, built before the threads
    wiring.catalog().drop("linen-lab")

    def attempt(index: int) -> tuple[int, dict[str, Any]]:
        barrier.wait()
        return try_on(visitor_of(index))

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attempt, range(count)))


def tote() -> dict[str, Any]:
    item = wiring.stock().item(TOTE)
    assert item is not None
    return item


def test_n_units_and_n_plus_3_requests_hold_all_but_the_piece_kept_for_buyers(stocked: int) -> None:
    results = at_once(stocked + 3, lambda index: f"visitor-{index:04d}")
    outcomes = Counter((status, body.get("code")) for status, body in results)
    held = stocked - KEPT
    assert outcomes == {(201, None): held, (409, "kept_for_buyers"): 3 + KEPT}
    item = tote()
    assert (item["available"], item["held"], len(item["holds"])) == (KEPT, held, held)
    positions = sorted(body["position"] for status, body in results if status == 201)
    assert positions[0] == 1 and positions[-1] <= held


def test_one_visitor_asking_six_times_at_once_holds_three(moto_table: str) -> None:
    flash_sale.prepare(moto_table, flash_sale.FlashSale(units=10, buyers=0, threads=1), NOW)
    results = at_once(6, lambda _: "one-eager-visitor")
    outcomes = Counter((status, body.get("code")) for status, body in results)
    assert outcomes == {(201, None): 3, (409, "tryon_limit"): 3}
    assert tote()["held"] == 3
    places = wiring.tryons().visitor_places("one-eager-visitor")
    assert sorted(places) == ["s0", "s1", "s2"]


def test_expired_holds_are_released_by_the_sweep_and_then_the_units_are_free(stocked: int) -> None:
    at_once(stocked, lambda index: f"visitor-{index:04d}")
    assert tote()["available"] == KEPT
    later = NOW + timedelta(minutes=6)
    assert wiring.stock().release_expired_in_drop("linen-lab", 0, later) == stocked - KEPT
    item = tote()
    assert (item["available"], item["held"], item["holds"]) == (stocked, 0, {})
    assert try_on("a-later-visitor", later)[0] == 201


def test_an_expired_hold_is_released_by_the_next_request_that_needs_it(stocked: int) -> None:
    at_once(stocked, lambda index: f"visitor-{index:04d}")
    status, body = try_on("a-later-visitor", NOW + timedelta(minutes=6))
    assert status == 201, body
    item = tote()
    assert (item["available"], item["held"]) == (stocked - 1, 1)


def test_cancelling_from_two_tills_at_once_releases_the_unit_once(stocked: int) -> None:
    _, tryon = try_on("visitor-one")
    barrier = threading.Barrier(2)

    def cancel(_: int) -> bool:
        barrier.wait()
        answer = staff_act(
            wiring.tryons(), wiring.stock(), wiring.catalog(), flash_sale.POPUP, tryon["tryon_id"], "cancel", NOW
        )
        return bool(answer["changed"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        changed = sorted(pool.map(cancel, range(2)))
    assert changed == [False, True]
    item = tote()
    assert (item["available"], item["held"]) == (stocked, 0)
