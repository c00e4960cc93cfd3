"""Returns and exchanges at a pop-up's till over HTTP: each return once, never more back than was sold,
an exchange swapping the stock in the same write, clear refusals, and the numbers they feed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.stock.counters import Counter
from chalicelib.stock.pickup import mark_pickup
from chalicelib.stock.ports import BookingState
from chalicelib.store.attributes import counter_attribute
from chalicelib.tills.sales import issue_till_token
from tests.conftest import json_of
from tests.stock.test_pickup import book, order, slots, tomorrow
from tests.tills.test_sales import PARIS, paris_stock, post, sale


@pytest.fixture
def till(client: Client, seeded_at: datetime) -> str:
    return issue_till_token(wiring.tills(), "paris-marais", seeded_at)


def returned(return_id: str, qty: int = 1, reason: str = "too_small", **origin: Any) -> dict[str, Any]:
    line = {"return_id": return_id, "sku": "TEE-ECRU", "size": "M", "qty": qty, "reason": reason}
    return line | {"returned_at": datetime.now(PARIS).isoformat()} | origin


def returns(client: Client, till: str, *lines: dict[str, Any]) -> dict[str, Any]:
    answer = post(client, "/api/pos/returns", till, {"popup": "paris-marais", "returns": list(lines)})
    assert answer.status_code == 200, answer.body
    report: dict[str, Any] = json_of(answer)
    return report


def test_a_return_comes_back_once_and_an_exchange_swaps_the_stock_in_the_same_write(client: Client, till: str) -> None:
    assert json_of(post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": [sale("s-1", qty=2)]}))[
        "applied"
    ] == ["s-1"]
    m, large = paris_stock("TEE-ECRU", "M"), paris_stock("TEE-ECRU", "L")
    swap = returned("r-1", sale_id="s-1", exchange={"sku": "TEE-ECRU", "size": "L"})
    assert returns(client, till, swap) == {"applied": ["r-1"], "duplicates": [], "rejected": []}
    after_m, after_l = paris_stock("TEE-ECRU", "M"), paris_stock("TEE-ECRU", "L")
    assert (after_m["available"], after_m["sold"]) == (m["available"] + 1, m["sold"] - 1)
    assert (after_l["available"], after_l["sold"]) == (large["available"] - 1, large["sold"] + 1)
    today = datetime.now(PARIS).date()
    assert after_m[counter_attribute(Counter.RETURNED, today)] == 1
    assert after_l[counter_attribute(Counter.EXCHANGED, today)] == 1
    again = returns(client, till, swap, returned("r-2", qty=2, sale_id="s-1"), returned("r-3", sale_id="s-1"))
    assert again["duplicates"] == ["r-1"] and again["applied"] == ["r-3"]
    assert again["rejected"] == [{"return_id": "r-2", "code": "over_returned"}]  # one of two was left
    assert returns(client, till, returned("r-4", sale_id="s-1"))["rejected"] == [
        {"return_id": "r-4", "code": "over_returned"}
    ]
    assert paris_stock("TEE-ECRU", "M")["sold"] == m["sold"] - 2 and paris_stock("TEE-ECRU", "L") == after_l
    counts = wiring.numbers().counts("linen-lab")
    assert counts["returned@TEE-ECRU#recycled-mailer#paris-marais"] == 2  # the SKU's packaging
    assert counts["reason@too_small"] == 2


def test_a_picked_up_booking_can_be_returned_and_one_not_collected_cannot(
    client: Client, till: str, seeded_at: datetime
) -> None:
    start = slots(client, tomorrow(seeded_at))[0]["start"]
    first = json_of(book(client, order(start, ("TEE-ECRU", "M", 1))))
    second = json_of(book(client, order(start, ("TEE-ECRU", "M", 1))))
    mark_pickup(wiring.bookings(), first["code"], "paris-marais", BookingState.PICKED_UP, datetime.now(PARIS))
    report = returns(
        client,
        till,
        returned("b-1", reason="fit", booking_code=first["code"]),
        returned("b-2", booking_code=second["code"]),
    )
    assert report["applied"] == ["b-1"]
    assert report["rejected"] == [{"return_id": "b-2", "code": "not_picked_up"}]
    assert wiring.numbers().counts("linen-lab")["reason@fit"] == 1


def test_a_return_that_cannot_apply_says_why_and_the_rest_of_the_batch_does(client: Client, till: str) -> None:
    post(
        client,
        "/api/pos/sales",
        till,
        {"popup": "paris-marais", "sales": [sale("s-9"), sale("s-10", "TRS-STONE", "S")]},
    )
    later = (datetime.now(PARIS) + timedelta(hours=2)).isoformat()
    report = returns(
        client,
        till,
        returned("x-1", sale_id="never-sold"),
        returned("x-2", sale_id="s-10"),  # the sale was of another piece
        returned("x-3", sale_id="s-9") | {"returned_at": later},
        returned("x-4", sale_id="s-9") | {"sku": "NOPE"},
        returned("x-5", sale_id="s-9", exchange={"sku": "TRS-STONE", "size": "S"}),  # none left to hand out
        returned("x-6", sale_id="s-9", reason="quality"),
    )
    assert report["applied"] == ["x-6"]
    assert report["rejected"] == [
        {"return_id": "x-1", "code": "unknown_sale"},
        {"return_id": "x-2", "code": "not_in_sale"},
        {"return_id": "x-3", "code": "returned_in_future"},
        {"return_id": "x-4", "code": "unknown_item"},
        {"return_id": "x-5", "code": "exchange_out_of_stock"},
    ]


@pytest.mark.parametrize(
    "bad",
    [
        returned("y-1"),  # neither a sale nor a booking
        returned("y-2", sale_id="s-1", booking_code="ABCDEFGH"),  # both
        returned("y-3", sale_id="s-1", reason="too_blue"),
        returned("y-4", sale_id="s-1", qty=0),
    ],
)
def test_a_malformed_return_is_422_and_nothing_applies(client: Client, till: str, bad: dict[str, Any]) -> None:
    answer = post(client, "/api/pos/returns", till, {"popup": "paris-marais", "returns": [bad]})
    assert answer.status_code == 422, answer.body
    assert json_of(answer)["error"]["code"] == "invalid_body"
