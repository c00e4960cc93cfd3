"""Checkout holds through the HTTP contract: placing, owning, letting go, expiring, and converting a
hold (or a try-on's unit) into a booking in the booking's own transaction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine
from botocore.exceptions import ReadTimeoutError
from chalice.test import Client

from chalicelib import wiring
from chalicelib.stock.ports import StockRef
from chalicelib.store.client import dynamodb
from chalicelib.tryon.tags import Tag, tag_token
from tests.conftest import json_of, scan_claim_of

PARIS = ZoneInfo("Europe/Paris")
JSON = {"Content-Type": "application/json"}
LAST_ONE = ("OVR-SAND", "XS")  # one unit at paris-marais in the demo


def visitor(client: Client) -> str:
    response = client.http.get("/drops/linen-lab")
    cookie: str = response.headers["Set-Cookie"].split(";")[0]
    return cookie


def hold(client: Client, cookie: str | None, *lines: tuple[str, str, int], popup: str = "paris-marais") -> Any:
    body = {"drop": "linen-lab", "popup": popup, "items": [{"sku": s, "size": z, "qty": q} for s, z, q in lines]}
    headers = {**JSON, **({"Cookie": cookie} if cookie else {})}
    return client.http.post("/api/holds", headers=headers, body=json.dumps(body))


def let_go(client: Client, cookie: str, hold_id: str) -> Any:
    return client.http.delete(f"/api/holds/{hold_id}", headers={"Cookie": cookie})


def stock_of(sku: str, size: str) -> dict[str, Any]:
    item = wiring.stock().item(StockRef("linen-lab", 0, sku, size, "paris-marais"))
    assert item is not None
    return item


def slot_tomorrow(client: Client, seeded_at: datetime) -> str:
    day = (seeded_at + timedelta(days=1)).astimezone(PARIS).date()
    start: str = json_of(client.http.get(f"/api/popups/paris-marais/slots?date={day}"))["slots"][0]["start"]
    return start


def book(client: Client, cookie: str, slot: str, *lines: tuple[str, str, int], key: str, **extra: Any) -> Any:
    order = {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "slot_start": slot,
        "items": [{"sku": s, "size": z, "qty": q} for s, z, q in lines],
        "contact": {"name": "Ada", "email": "ada@example.org"},
        **extra,
    }
    headers = {**JSON, "Cookie": cookie, "Idempotency-Key": key}
    return client.http.post("/api/pickups", headers=headers, body=json.dumps(order))


def test_a_hold_sets_the_units_aside_for_its_visitor_until_it_expires(client: Client, seeded_at: datetime) -> None:
    cookie = visitor(client)
    before = stock_of("TEE-ECRU", "M")
    response = hold(client, cookie, ("TEE-ECRU", "M", 1), ("TEE-ECRU", "M", 1), ("OVR-SAND", "S", 1))
    assert response.status_code == 201, response.body
    body = json_of(response)
    assert body["state"] == "held" and body["popup"] == "paris-marais"
    assert body["items"] == [{"sku": "TEE-ECRU", "size": "M", "qty": 2}, {"sku": "OVR-SAND", "size": "S", "qty": 1}]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=9) < expires - seeded_at < timedelta(minutes=11)
    after = stock_of("TEE-ECRU", "M")
    assert after["available"] == before["available"] - 2 and after["held"] == before["held"] + 2


def test_booking_a_hold_converts_its_units_so_the_last_one_can_be_booked(client: Client, seeded_at: datetime) -> None:
    cookie, slot = visitor(client), slot_tomorrow(client, seeded_at)
    held = json_of(hold(client, cookie, (*LAST_ONE, 1)))
    assert stock_of(*LAST_ONE)["available"] == 0
    # Someone else finds nothing left, while the holder books it.
    assert book(client, visitor(client), slot, (*LAST_ONE, 1), key="other-buyer-1").status_code == 409
    booked = book(client, cookie, slot, (*LAST_ONE, 1), key="holder-books-1", hold_id=held["hold_id"])
    assert booked.status_code == 201, booked.body
    item = stock_of(*LAST_ONE)
    assert (item["available"], item["held"], item["sold"]) == (0, 0, 1)
    assert not item.get("holds")
    stored = wiring.holds().checkout_hold(held["hold_id"])
    assert stored is not None and stored.state == "booked" and stored.booking == json_of(booked)["code"]
    # The same request again is the same booking, not a refusal and not a second unit.
    again = book(client, cookie, slot, (*LAST_ONE, 1), key="holder-books-1", hold_id=held["hold_id"])
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert json_of(again)["code"] == json_of(booked)["code"] and stock_of(*LAST_ONE)["sold"] == 1
    # A new request for the same hold is told it is booked.
    twice = book(client, cookie, slot, (*LAST_ONE, 1), key="holder-books-2", hold_id=held["hold_id"])
    assert twice.status_code == 409 and json_of(twice)["error"]["code"] == "hold_booked"


def test_a_booking_takes_the_held_units_first_and_gives_back_what_it_does_not_book(
    client: Client, seeded_at: datetime
) -> None:
    cookie, slot = visitor(client), slot_tomorrow(client, seeded_at)
    tee, sand = stock_of("TEE-ECRU", "L"), stock_of("OVR-SAND", "M")
    held = json_of(hold(client, cookie, ("TEE-ECRU", "L", 1), ("OVR-SAND", "M", 1)))
    booked = book(client, cookie, slot, ("TEE-ECRU", "L", 2), key="more-than-held", hold_id=held["hold_id"])
    assert booked.status_code == 201, booked.body
    tee_after, sand_after = stock_of("TEE-ECRU", "L"), stock_of("OVR-SAND", "M")
    assert tee_after["sold"] == tee["sold"] + 2 and tee_after["available"] == tee["available"] - 2
    assert tee_after["held"] == tee["held"]
    assert (sand_after["available"], sand_after["held"]) == (sand["available"], sand["held"])
    assert sand_after["sold"] == sand["sold"] and not sand_after.get("holds")


def test_only_the_visitor_who_holds_it_can_book_or_let_go(client: Client, seeded_at: datetime) -> None:
    mine, theirs, slot = visitor(client), visitor(client), slot_tomorrow(client, seeded_at)
    held = json_of(hold(client, mine, (*LAST_ONE, 1)))
    stolen = book(client, theirs, slot, (*LAST_ONE, 1), key="not-my-hold-1", hold_id=held["hold_id"])
    assert stolen.status_code == 404 and json_of(stolen)["error"]["code"] == "hold_not_found"
    assert let_go(client, theirs, held["hold_id"]).status_code == 404
    assert hold(client, None, (*LAST_ONE, 1)).status_code == 409  # still set aside
    assert stock_of(*LAST_ONE)["held"] == 1


def test_letting_go_gives_the_units_back_once(client: Client) -> None:
    cookie = visitor(client)
    before = stock_of("TEE-ECRU", "S")
    held = json_of(hold(client, cookie, ("TEE-ECRU", "S", 2)))
    first = let_go(client, cookie, held["hold_id"])
    assert first.status_code == 200 and json_of(first)["changed"] is True and json_of(first)["state"] == "released"
    again = let_go(client, cookie, held["hold_id"])
    assert again.status_code == 200 and json_of(again)["changed"] is False
    after = stock_of("TEE-ECRU", "S")
    assert (after["available"], after["held"]) == (before["available"], before["held"])


def test_letting_go_whose_first_reply_was_lost_still_says_it_changed(client: Client) -> None:
    """botocore retries an UpdateItem whose reply timed out; the first try had applied, so the retry
    must be read as this call's own change, not as someone else's."""
    cookie = visitor(client)
    held = json_of(hold(client, cookie, ("TEE-ECRU", "S", 1)))
    sent: dict[str, Any] = {}
    database = dynamodb()

    def remember(params: dict[str, Any], **_: Any) -> None:
        sent.update(params)

    def applied_then_lost(request: Any, **_: Any) -> None:
        if "applied" not in sent and "Key" in sent and "released_at" in sent.get("UpdateExpression", ""):
            sent["applied"] = True
            boto3.client("dynamodb", region_name=database.meta.region_name).update_item(
                **{k: v for k, v in sent.items() if k != "applied"}
            )
            raise ReadTimeoutError(endpoint_url=request.url)

    database.meta.events.register("before-parameter-build.dynamodb.UpdateItem", remember)
    database.meta.events.register_first("before-send.dynamodb.UpdateItem", applied_then_lost)
    try:
        released = let_go(client, cookie, held["hold_id"])
    finally:
        database.meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", remember)
        database.meta.events.unregister("before-send.dynamodb.UpdateItem", applied_then_lost)
    assert sent.get("applied") is True  # the lost reply really happened
    assert released.status_code == 200 and json_of(released)["changed"] is True


def test_a_visitor_holds_only_so_many_at_once(client: Client) -> None:
    cookie = visitor(client)
    first = json_of(hold(client, cookie, ("TEE-ECRU", "XS", 1)))
    assert hold(client, cookie, ("TEE-ECRU", "S", 1)).status_code == 201
    third = hold(client, cookie, ("TEE-ECRU", "M", 1))
    assert third.status_code == 409 and json_of(third)["error"] == {
        "code": "hold_limit",
        "message": "You can hold pieces 2 times at once. Book or let go of one first.",
        "details": {"limit": 2},
    }
    let_go(client, cookie, first["hold_id"])
    assert hold(client, cookie, ("TEE-ECRU", "M", 1)).status_code == 201


def test_an_expired_hold_frees_its_units_and_cannot_be_booked(client: Client, seeded_at: datetime) -> None:
    cookie, slot = visitor(client), slot_tomorrow(client, seeded_at)
    held = json_of(hold(client, cookie, (*LAST_ONE, 1)))
    with time_machine.travel(seeded_at + timedelta(minutes=11)):
        late = book(client, cookie, slot, (*LAST_ONE, 1), key="too-late-1", hold_id=held["hold_id"])
        assert late.status_code == 409 and json_of(late)["error"]["code"] == "hold_expired"
        # The next shopper gets the unit: the lapsed hold is released on their way.
        assert hold(client, visitor(client), (*LAST_ONE, 1)).status_code == 201
        assert let_go(client, cookie, held["hold_id"]).status_code == 200
    item = stock_of(*LAST_ONE)
    assert (item["available"], item["held"]) == (0, 1)


def test_the_unit_tried_on_is_the_one_then_booked(client: Client, seeded_at: datetime) -> None:
    tried_on = ("OVR-SAND", "M")  # two at paris-marais: try-ons leave the last one to buyers
    tag = Tag("paris-marais", *tried_on)
    page = client.http.get(f"/t/{tag_token(tag)}")
    cookie = page.headers["Set-Cookie"].split(";")[0]
    body = json.dumps({"qr_token": tag_token(tag), "scan": scan_claim_of(page), "size": tried_on[1]})
    tried = json_of(client.http.post("/api/tryons", headers={**JSON, "Cookie": cookie}, body=body))
    slot = slot_tomorrow(client, seeded_at)
    booked = book(client, cookie, slot, (*tried_on, 1), key="after-trying-1", tryon_id=tried["tryon_id"])
    assert booked.status_code == 201, booked.body
    item = stock_of(*tried_on)
    assert (item["available"], item["held"], item["sold"]) == (1, 0, 1)
    tryon = wiring.tryons().tryon(tried["tryon_id"])
    assert tryon is not None and tryon.state == "completed" and tryon.booking == json_of(booked)["code"]
    assert "s0" not in wiring.tryons().visitor_places(tryon.visitor)  # the visitor's try-on place is free again


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"drop": "linen-lab", "popup": "paris-marais", "items": [{"sku": "NOPE", "size": "M", "qty": 1}]},
            422,
            "unknown_item",
        ),
        (
            {"drop": "linen-lab", "popup": "web", "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}]},
            422,
            "unknown_popup",
        ),
        (
            {"drop": "linen-lab", "popup": "paris-marais", "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 6}] * 2},
            422,
            "line_quantity",
        ),
        (
            {"drop": "winter-knit", "popup": "paris-marais", "items": [{"sku": "BNE-MOSS", "size": "OS", "qty": 1}]},
            409,
            "drop_not_live",
        ),
        (
            {"drop": "no-such-drop", "popup": "paris-marais", "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}]},
            404,
            "drop_not_found",
        ),
        ({"drop": "linen-lab", "popup": "paris-marais", "items": []}, 422, "invalid_body"),
    ],
)
def test_a_hold_that_cannot_be_placed_says_why(client: Client, body: dict[str, Any], status: int, code: str) -> None:
    response = client.http.post("/api/holds", headers=JSON, body=json.dumps(body))
    assert response.status_code == status and json_of(response)["error"]["code"] == code


@pytest.mark.parametrize("hold_id", ["nope", "h" + "0" * 17, "0" * 18])
def test_letting_go_of_an_unknown_hold_is_404(client: Client, hold_id: str) -> None:
    response = client.http.delete(f"/api/holds/{hold_id}", headers={"Cookie": visitor(client)})
    assert response.status_code == 404 and json_of(response)["error"]["code"] == "hold_not_found"


def test_a_hold_no_booking_could_take_is_refused_at_once_also_when_pieces_are_added(client: Client) -> None:
    cookie, before = visitor(client), stock_of("TEE-ECRU", "M")
    refused = hold(client, cookie, ("TEE-ECRU", "M", 2), ("TEE-ECRU", "M", 1))  # the demo allows 2 per customer
    assert refused.status_code == 409
    assert json_of(refused)["error"]["code"] == "customer_limit"
    assert json_of(refused)["error"]["details"] == {"limit": 2, "sku": "TEE-ECRU", "size": "M"}
    first = json_of(hold(client, cookie, ("TEE-ECRU", "M", 2)))
    body = {"drop": "linen-lab", "popup": "paris-marais", "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}]}
    grown = client.http.post(
        "/api/holds", headers={**JSON, "Cookie": cookie}, body=json.dumps({**body, "add_to": first["hold_id"]})
    )
    assert grown.status_code == 409 and json_of(grown)["error"]["code"] == "customer_limit"
    assert stock_of("TEE-ECRU", "M")["held"] == before["held"] + 2  # the first hold stands, nothing added


def test_pieces_added_to_a_hold_join_it_without_buying_time(client: Client, seeded_at: datetime) -> None:
    cookie, slot = visitor(client), slot_tomorrow(client, seeded_at)
    tee, sand = stock_of("TEE-ECRU", "M"), stock_of("OVR-SAND", "S")
    first = json_of(hold(client, cookie, ("TEE-ECRU", "M", 1)))
    body = {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "items": [{"sku": "OVR-SAND", "size": "S", "qty": 1}, {"sku": "TEE-ECRU", "size": "M", "qty": 1}],
        "add_to": first["hold_id"],
    }
    grown = client.http.post("/api/holds", headers={**JSON, "Cookie": cookie}, body=json.dumps(body))
    assert grown.status_code == 201, grown.body
    basket = json_of(grown)
    assert basket["hold_id"] != first["hold_id"] and basket["expires_at"] == first["expires_at"]
    assert basket["items"] == [{"sku": "TEE-ECRU", "size": "M", "qty": 2}, {"sku": "OVR-SAND", "size": "S", "qty": 1}]
    assert (
        stock_of("TEE-ECRU", "M")["held"] == tee["held"] + 2 and stock_of("OVR-SAND", "S")["held"] == sand["held"] + 1
    )
    old = wiring.holds().checkout_hold(first["hold_id"])
    assert old is not None and old.state == "released"
    assert hold(client, cookie, ("TEE-ECRU", "S", 1)).status_code == 201  # the basket kept one place, not two
    items = [("TEE-ECRU", "M", 2), ("OVR-SAND", "S", 1)]
    booked = book(client, cookie, slot, *items, key="basket-booked-1", hold_id=basket["hold_id"])
    assert booked.status_code == 201, booked.body
    assert stock_of("TEE-ECRU", "M")["held"] == tee["held"] and stock_of("TEE-ECRU", "M")["sold"] == tee["sold"] + 2


def test_pieces_cannot_join_a_hold_that_is_not_the_visitors_live_one_at_that_pop_up(
    client: Client, seeded_at: datetime
) -> None:
    cookie = visitor(client)
    first = json_of(hold(client, cookie, ("TEE-ECRU", "M", 1)))

    def add(who: str, popup: str = "paris-marais") -> Any:
        body = {"drop": "linen-lab", "popup": popup, "items": [{"sku": "TEE-ECRU", "size": "S", "qty": 1}]}
        body["add_to"] = first["hold_id"]
        return client.http.post("/api/holds", headers={**JSON, "Cookie": who}, body=json.dumps(body))

    assert add(visitor(client)).status_code == 404
    elsewhere = add(cookie, "brooklyn")
    assert elsewhere.status_code == 422 and json_of(elsewhere)["error"]["code"] == "hold_mismatch"
    with time_machine.travel(seeded_at + timedelta(minutes=11)):
        late = add(cookie)
        assert late.status_code == 409 and json_of(late)["error"]["code"] == "hold_expired"
