"""Local pickup through the HTTP contract: slots, booking, idempotency, cancelling, staff marking."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from chalice.test import Client

from chalicelib import wiring
from chalicelib.stock.counters import Counter
from chalicelib.stock.ports import StockRef
from chalicelib.store.attributes import counter_attribute
from chalicelib.tills.sales import issue_till_token
from devtools.process import forget_process_state
from tests.conftest import html_of, json_of

PARIS = ZoneInfo("Europe/Paris")
CONTACT = {"name": "Ada Lovelace", "email": "ada@example.org"}
OTHER = {"name": "Grace Hopper", "email": "grace@example.org"}


def tomorrow(seeded_at: datetime) -> date:
    return seeded_at.astimezone(PARIS).date() + timedelta(days=1)


def slots(client: Client, day: date, popup: str = "paris-marais") -> list[dict[str, Any]]:
    response = client.http.get(f"/api/popups/{popup}/slots?date={day.isoformat()}")
    assert response.status_code == 200, response.body
    result: list[dict[str, Any]] = json_of(response)["slots"]
    return result


def order(slot_start: str, *lines: tuple[str, str, int], **extra: Any) -> dict[str, Any]:
    return {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "slot_start": slot_start,
        "items": [{"sku": sku, "size": size, "qty": qty} for sku, size, qty in lines],
        "contact": CONTACT,
        **extra,
    }


def book(client: Client, body: Any, key: str | None = None, headers: dict[str, str] | None = None) -> Any:
    sent = {"Content-Type": "application/json", "Idempotency-Key": key or str(uuid.uuid4()), **(headers or {})}
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.http.post("/api/pickups", headers=sent, body=raw)


def stock_of(sku: str, size: str, location: str = "paris-marais") -> dict[str, Any]:
    item = wiring.stock().item(StockRef("linen-lab", 0, sku, size, location))
    assert item is not None
    return item


@pytest.fixture
def first_slot(client: Client, seeded_at: datetime) -> str:
    start: str = slots(client, tomorrow(seeded_at))[0]["start"]
    return start


def test_slots_are_listed_in_local_time_with_capacity(client: Client, seeded_at: datetime) -> None:
    listed = slots(client, tomorrow(seeded_at))
    assert len(listed) == 20  # 10:00 to 20:00 in 30-minute slots
    first = datetime.fromisoformat(listed[0]["start"])
    assert (first.hour, first.minute) == (10, 0)
    assert first.utcoffset() == tomorrow_offset(seeded_at)
    assert {s["remaining"] for s in listed} == {4}
    assert listed[0]["start_utc"].endswith("Z")


def tomorrow_offset(seeded_at: datetime) -> timedelta | None:
    return datetime.combine(tomorrow(seeded_at), datetime.min.time(), tzinfo=PARIS).utcoffset()


def test_booking_takes_stock_and_a_slot_place(client: Client, seeded_at: datetime, first_slot: str) -> None:
    before = stock_of("TEE-ECRU", "M")
    response = book(client, order(first_slot, ("TEE-ECRU", "M", 2)))
    assert response.status_code == 201, response.body
    body = json_of(response)
    assert set(body["code"]) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ") and len(body["code"]) == 8
    assert body["slot_start"] == first_slot
    assert body["total_minor"] == sum(line["line_minor"] for line in body["items"])
    assert body["currency"] == "EUR" and body["cancel_token"]
    after = stock_of("TEE-ECRU", "M")
    assert (after["available"], after["sold"]) == (before["available"] - 2, before["sold"] + 2)
    today = seeded_at.astimezone(PARIS).date()
    assert after[counter_attribute(Counter.BOOKED, today)] == 2
    assert slots(client, tomorrow(seeded_at))[0]["remaining"] == 3


def test_duplicate_lines_of_one_sku_and_size_are_merged(client: Client, first_slot: str) -> None:
    response = book(client, order(first_slot, ("TOTE-ECRU", "OS", 1), ("TOTE-ECRU", "OS", 1)))
    assert response.status_code == 201, response.body
    assert [(i["sku"], i["qty"]) for i in json_of(response)["items"]] == [("TOTE-ECRU", 2)]
    assert stock_of("TOTE-ECRU", "OS")["available"] == 8
    # Merged, the lines meet the drop's limit per customer (2): split in two, 3 + 2 cannot pass it.
    split = book(client, order(first_slot, ("TOTE-ECRU", "OS", 1), ("TOTE-ECRU", "OS", 2), contact=OTHER))
    assert json_of(split)["error"]["code"] == "customer_limit"


def test_the_last_unit_sells_once(client: Client, first_slot: str) -> None:
    assert book(client, order(first_slot, ("TRS-STONE", "S", 1))).status_code == 201
    second = book(client, order(first_slot, ("TRS-STONE", "S", 1)))
    assert second.status_code == 409
    error = json_of(second)["error"]
    assert error["code"] == "out_of_stock"
    assert error["details"]["lines"] == [{"sku": "TRS-STONE", "size": "S", "requested": 1, "available": 0}]
    assert stock_of("TRS-STONE", "S")["available"] == 0


def test_out_of_stock_reserves_nothing(client: Client, seeded_at: datetime, first_slot: str) -> None:
    before = stock_of("TEE-ECRU", "M")["available"]
    response = book(client, order(first_slot, ("TEE-ECRU", "M", 1), ("TRS-STONE", "XS", 1)))
    assert response.status_code == 409
    assert json_of(response)["error"]["code"] == "out_of_stock"
    assert stock_of("TEE-ECRU", "M")["available"] == before
    assert slots(client, tomorrow(seeded_at))[0]["remaining"] == 4


def test_a_full_slot_says_so_and_reserves_nothing(client: Client, first_slot: str) -> None:
    for n in range(4):  # four shoppers (one customer may book only two)
        shopper = {"name": "Ada Lovelace", "email": f"ada{n}@example.org"}
        assert book(client, order(first_slot, ("TOTE-ECRU", "OS", 1), contact=shopper)).status_code == 201
    response = book(client, order(first_slot, ("TOTE-ECRU", "OS", 1), contact=OTHER))
    assert response.status_code == 409
    assert json_of(response)["error"]["code"] == "slot_full"
    assert stock_of("TOTE-ECRU", "OS")["available"] == 6


def test_the_same_key_and_body_give_the_same_answer_once(client: Client, first_slot: str) -> None:
    body = order(first_slot, ("TEE-ECRU", "S", 1))
    first = book(client, body, key="retry-key-0001")
    again = book(client, body, key="retry-key-0001")
    assert first.status_code == again.status_code == 201
    assert json_of(again) == json_of(first)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert stock_of("TEE-ECRU", "S")["available"] == 3


def test_the_same_key_with_another_body_is_refused(client: Client, first_slot: str) -> None:
    assert book(client, order(first_slot, ("TEE-ECRU", "S", 1)), key="retry-key-0002").status_code == 201
    response = book(client, order(first_slot, ("TEE-ECRU", "S", 2)), key="retry-key-0002")
    assert response.status_code == 422
    assert json_of(response)["error"]["code"] == "idempotency_key_reused"
    assert stock_of("TEE-ECRU", "S")["available"] == 3


def test_prices_come_from_the_server(client: Client, first_slot: str) -> None:
    paris = client.http.get("/api/drops/linen-lab", headers={"CloudFront-Viewer-Country": "FR"})
    offers = {p["sku"]: p["offer"] for p in json_of(paris)["products"]}
    cookie = paris.headers["Set-Cookie"].split(";")[0]
    body = order(first_slot, ("TEE-INK", "S", 1))
    body["items"][0]["price_minor"] = 1
    body["total_minor"] = 1
    booked = json_of(book(client, body, headers={"Cookie": cookie}))
    assert booked["items"][0]["unit_minor"] == offers["TEE-INK"]["price_minor"]


def test_cancel_gives_back_stock_and_slot_exactly_once(client: Client, seeded_at: datetime, first_slot: str) -> None:
    booked = json_of(book(client, order(first_slot, ("CRW-OAT", "S", 2))))
    headers = {"Authorization": f"Bearer {booked['cancel_token']}"}
    first = client.http.delete(f"/api/pickups/{booked['code']}", headers=headers)
    assert first.status_code == 200, first.body
    assert json_of(first)["state"] == "cancelled" and json_of(first)["changed"] is True
    again = client.http.delete(f"/api/pickups/{booked['code']}", headers=headers)
    assert again.status_code == 200 and json_of(again)["changed"] is False
    item = stock_of("CRW-OAT", "S")
    assert (item["available"], item["sold"]) == (2, 0)
    assert item[counter_attribute(Counter.CANCELLED, seeded_at.astimezone(PARIS).date())] == 2
    assert slots(client, tomorrow(seeded_at))[0]["remaining"] == 4


def test_cancel_needs_the_bookings_own_token(client: Client, first_slot: str) -> None:
    one = json_of(book(client, order(first_slot, ("TOTE-ECRU", "OS", 1))))
    other = json_of(book(client, order(first_slot, ("TOTE-ECRU", "OS", 1))))
    mine = one["cancel_token"]
    signed = mine.rindex(".") + 1  # the signature's first character carries six whole bits of it
    forged = mine[:signed] + ("A" if mine[signed] != "A" else "B") + mine[signed + 1 :]
    for token in (other["cancel_token"], forged, ""):
        response = client.http.delete(f"/api/pickups/{one['code']}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert json_of(response)["error"]["code"] in ("invalid_token", "missing_token")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert stock_of("TOTE-ECRU", "OS")["available"] == 8


def test_the_confirmation_page_shows_the_code_and_a_qr(client: Client, first_slot: str) -> None:
    booked = json_of(book(client, order(first_slot, ("TOTE-ECRU", "OS", 1))))
    page = client.http.get(f"/pickups/{booked['code']}?t={booked['cancel_token']}&lang=fr")
    assert page.status_code == 200
    html = html_of(page)
    assert booked["code"] in html and 'class="qr"' in html
    assert page.headers["Content-Language"] == "fr"
    assert "noindex" in html
    refused = client.http.get(f"/pickups/{booked['code']}")
    assert refused.status_code == 401 and "text/html" in refused.headers["Content-Type"]


def test_staff_mark_pickups_with_their_tills_token(client: Client, seeded_at: datetime, first_slot: str) -> None:
    booked = json_of(book(client, order(first_slot, ("TOTE-ECRU", "OS", 2))))
    paris = issue_till_token(wiring.tills(), "paris-marais", seeded_at)
    brooklyn = issue_till_token(wiring.tills(), "brooklyn", seeded_at)

    def mark(token: str, state: str) -> Any:
        return client.http.post(
            f"/api/staff/pickups/{booked['code']}",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            body=json.dumps({"state": state}),
        )

    assert mark(brooklyn, "picked_up").status_code == 404
    assert json_of(mark(paris, "no_show"))["error"]["code"] == "too_early"
    picked = mark(paris, "picked_up")
    assert picked.status_code == 200 and json_of(picked)["state"] == "picked_up"
    assert mark(paris, "picked_up").status_code == 200  # the same mark again changes nothing
    assert json_of(mark(paris, "no_show"))["error"]["code"] == "not_booked"
    item = stock_of("TOTE-ECRU", "OS")
    assert (item["available"], item["sold"]) == (8, 2)
    assert item[counter_attribute(Counter.PICKED_UP, seeded_at.astimezone(PARIS).date())] == 2
    cancel = client.http.delete(
        f"/api/pickups/{booked['code']}", headers={"Authorization": f"Bearer {booked['cancel_token']}"}
    )
    assert cancel.status_code == 409


def test_a_missed_pickup_returns_its_stock(client: Client, seeded_at: datetime, first_slot: str) -> None:
    booked = json_of(book(client, order(first_slot, ("TOTE-ECRU", "OS", 1))))
    paris = issue_till_token(wiring.tills(), "paris-marais", seeded_at)
    with time_machine.travel(datetime.fromisoformat(first_slot) + timedelta(minutes=45), tick=False):
        response = client.http.post(
            f"/api/staff/pickups/{booked['code']}",
            headers={"Authorization": f"Bearer {paris}", "Content-Type": "application/json"},
            body=json.dumps({"state": "no_show"}),
        )
    assert response.status_code == 200, response.body
    assert stock_of("TOTE-ECRU", "OS")["available"] == 10


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("qty", [0, -1, 1.5, 2**31, "2", None])
def test_bad_quantities_are_refused(client: Client, first_slot: str, qty: Any) -> None:
    response = book(client, order(first_slot, ("TEE-ECRU", "M", qty)))
    assert response.status_code == 422
    assert json_of(response)["error"]["code"] == "invalid_body"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"items": [{"sku": "NOPE", "size": "M", "qty": 1}]}, "unknown_item"),
        ({"items": [{"sku": "TEE-ECRU", "size": "XXXL", "qty": 1}]}, "unknown_item"),
        ({"popup": "atlantis"}, "unknown_popup"),
        ({"popup": "web"}, "unknown_popup"),
        ({"contact": {"name": "Ada"}}, "invalid_body"),
        ({"contact": {"name": "Ada", "email": "not-an-email"}}, "invalid_body"),
        ({"contact": {"name": "   ", "email": "ada@example.org"}}, "invalid_body"),
        ({"contact": None}, "invalid_body"),
        ({"slot_start": "2020-01-01T10:00:00+01:00"}, "not_a_slot"),
        ({"slot_start": "not a time"}, "invalid_body"),
        ({"slot_start": "2030-01-01T10:00:00"}, "invalid_body"),
        ({"drop": "no-such-drop"}, "drop_not_found"),
    ],
)
def test_bad_bookings_get_a_clear_error(client: Client, first_slot: str, change: dict[str, Any], code: str) -> None:
    response = book(client, {**order(first_slot, ("TEE-ECRU", "M", 1)), **change})
    assert 400 <= response.status_code < 500
    assert json_of(response)["error"]["code"] == code


def test_slots_outside_hours_or_already_gone_are_refused(client: Client, seeded_at: datetime) -> None:
    day = tomorrow(seeded_at)
    night = datetime.combine(day, datetime.min.time(), tzinfo=PARIS).replace(hour=22).isoformat()
    off_grid = datetime.combine(day, datetime.min.time(), tzinfo=PARIS).replace(hour=10, minute=10).isoformat()
    yesterday = datetime.combine(day - timedelta(days=2), datetime.min.time(), tzinfo=PARIS).replace(hour=10)
    for start, code in ((night, "not_a_slot"), (off_grid, "not_a_slot"), (yesterday.isoformat(), "not_a_slot")):
        response = book(client, order(start, ("TEE-ECRU", "M", 1)))
        assert (response.status_code, json_of(response)["error"]["code"]) == (422, code)
    ten = datetime.combine(day, datetime.min.time(), tzinfo=PARIS).replace(hour=10)
    with time_machine.travel(ten + timedelta(hours=2), tick=False):  # noon there: 10:00 has gone
        response = book(client, order(ten.isoformat(), ("TEE-ECRU", "M", 1)))
        assert (response.status_code, json_of(response)["error"]["code"]) == (422, "slot_in_past")
        assert slots(client, day)[0]["remaining"] == 0


def test_headers_and_bodies_that_are_not_right(client: Client, first_slot: str) -> None:
    body = order(first_slot, ("TEE-ECRU", "M", 1))
    missing = client.http.post("/api/pickups", headers={"Content-Type": "application/json"}, body=json.dumps(body))
    assert (missing.status_code, json_of(missing)["error"]["code"]) == (400, "idempotency_key_required")
    assert json_of(book(client, body, key="short"))["error"]["code"] == "invalid_idempotency_key"
    assert json_of(book(client, "{not json"))["error"]["code"] == "invalid_json"
    huge = book(client, {**body, "contact": {"name": "x" * 20_000, "email": "a@b.co"}})
    assert (huge.status_code, json_of(huge)["error"]["code"]) == (400, "body_too_large")


@pytest.mark.parametrize("path", ["/api/popups/atlantis/slots", "/api/popups/web/slots", "/api/popups/x%00y/slots"])
def test_unknown_popups_are_not_found(client: Client, path: str) -> None:
    response = client.http.get(path)
    assert response.status_code == 404
    assert json_of(response)["error"]["code"] == "popup_not_found"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("date=tomorrow", 400, "invalid_query"),
        ("date=2026-1-1", 400, "invalid_query"),
        ("date=2026-02-30", 422, "invalid_date"),
        ("date=2031-01-01", 422, "date_out_of_range"),
    ],
)
def test_bad_slot_dates_are_refused(client: Client, query: str, status: int, code: str) -> None:
    response = client.http.get(f"/api/popups/paris-marais/slots?{query}")
    assert (response.status_code, json_of(response)["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    ("code", "status"),
    [("ABCDEFGH", 401), ("0000", 404), ("a" * 300, 404)],  # a well-formed code needs its token first
)
def test_unknown_booking_codes_are_refused(client: Client, code: str, status: int) -> None:
    response = client.http.delete(f"/api/pickups/{code}", headers={"Authorization": "Bearer x"})
    assert response.status_code == status


def test_a_cohort_discount_is_charged_to_its_budget_and_given_back_on_cancel(
    client: Client, first_slot: str, seeded_at: datetime
) -> None:
    from chalicelib.shop.visitors import campaign_link
    from chalicelib.store.catalog import DynamoCatalog
    from tests.conftest import TABLE

    landing = client.http.get(f"/api/drops/linen-lab?c={campaign_link(cohort='ana')}")
    cookie = landing.headers["Set-Cookie"].split(";")[0]
    offer = next(p["offer"] for p in json_of(landing)["products"] if p["sku"] == "CRW-OAT")
    assert "segment:creator-ana" in offer["rules"]
    booked = json_of(book(client, order(first_slot, ("CRW-OAT", "S", 1)), headers={"Cookie": cookie}))
    granted = booked["items"][0]["list_minor"] - booked["items"][0]["unit_minor"]
    assert granted > 0
    spend = DynamoCatalog(TABLE).cohort_spend("linen-lab")
    assert {name: n for name, n in spend.items() if "@at:" not in name and "@day:" not in name} == {
        "creator-ana@EUR": granted
    }
    assert spend["creator-ana@EUR@at:paris-marais"] == granted  # the pop-up's and the day's budgets too
    cancel = {"Authorization": f"Bearer {booked['cancel_token']}"}
    assert client.http.delete(f"/api/pickups/{booked['code']}", headers=cancel).status_code == 200
    assert set(DynamoCatalog(TABLE).cohort_spend("linen-lab").values()) == {0}  # every counter given back


def test_a_spent_budget_stops_its_discount(client: Client, first_slot: str) -> None:
    from chalicelib.shop.visitors import campaign_link
    from chalicelib.store.client import call
    from chalicelib.store.schema import spend_key
    from tests.conftest import TABLE

    call(
        "put_item",
        TableName=TABLE,
        Item={**spend_key("linen-lab"), "creator-ana@EUR": {"N": "50000"}},  # the demo budget in euros
    )
    forget_process_state()  # a fresh process (the policy and its spend are cached for 10 s)
    france = {"CloudFront-Viewer-Country": "FR"}
    usd = client.http.get(f"/api/drops/linen-lab?c={campaign_link(cohort='ana')}")
    eur = client.http.get(f"/api/drops/linen-lab?c={campaign_link(cohort='ana')}", headers=france)
    in_usd, in_eur = ({p["sku"]: p["offer"] for p in json_of(r)["products"]}["CRW-OAT"] for r in (usd, eur))
    assert "segment:creator-ana" in in_usd["rules"]  # the dollar budget is untouched
    assert "segment:creator-ana" not in in_eur["rules"]


def test_a_booking_frees_expired_holds_on_its_stock_first(client: Client, first_slot: str) -> None:
    """The last unit sits in a try-on hold that expired a minute ago and no sweep has run yet: the
    booking releases it (the expiry checked in the condition) and takes the unit."""
    ref = StockRef("linen-lab", 0, "TRS-STONE", "S", "paris-marais")
    now = datetime.now(PARIS)
    wiring.stock().place_hold(ref, "try-on-1", 1, now + timedelta(minutes=15), now)
    assert json_of(book(client, order(first_slot, ("TRS-STONE", "S", 1))))["error"]["code"] == "out_of_stock"
    with time_machine.travel(now + timedelta(minutes=16), tick=False):
        response = book(client, order(first_slot, ("TRS-STONE", "S", 1)))
    assert response.status_code == 201, response.body
    item = stock_of("TRS-STONE", "S")
    assert (item["held"], item["sold"], item["available"], item["holds"]) == (0, 1, 0, {})


def test_the_minute_sweep_frees_expired_holds_of_every_drop(client: Client) -> None:
    from chalicelib.stock.holds import sweep_expired_holds

    ref = StockRef("linen-lab", 0, "TRS-STONE", "S", "paris-marais")
    now = datetime.now(PARIS)
    wiring.stock().place_hold(ref, "try-on-1", 1, now + timedelta(minutes=15), now)
    assert sweep_expired_holds(wiring.catalog(), wiring.stock(), now) == 0
    assert sweep_expired_holds(wiring.catalog(), wiring.stock(), now + timedelta(minutes=15)) == 1
    assert (stock_of("TRS-STONE", "S")["held"], stock_of("TRS-STONE", "S")["available"]) == (0, 1)


def test_lines_of_one_size_merged_past_the_cap_are_refused(client: Client, first_slot: str) -> None:
    answer = book(client, order(first_slot, *[("TEE-ECRU", "M", 1)] * 11))  # eleven lines of one each
    assert (answer.status_code, json_of(answer)["error"]["code"]) == (422, "line_quantity")
    assert json_of(answer)["error"]["details"] == [{"sku": "TEE-ECRU", "size": "M", "qty": 11}]


@pytest.mark.parametrize(
    "change",
    [
        {"slot_start": "9999-12-31T10:00:00+00:00"},  # a far-future slot (it was a 500)
        {"slot_start": 1796166737},  # an epoch number is not a time with its zone
        {"contact": {"name": "Ada", "email": "ada\x00@example.org"}},
        {"contact": {"name": "Ada", "email": "ada\u202e@example.org"}},  # a bidi override
        {"contact": {"name": "Ada \u202egro.elpmaxe", "email": "ada@example.org"}},
    ],
)
def test_times_and_contacts_that_are_not_what_they_look_like_are_refused(
    client: Client, first_slot: str, change: dict[str, Any]
) -> None:
    answer = book(client, {**order(first_slot, ("TEE-ECRU", "M", 1)), **change})
    assert (answer.status_code, json_of(answer)["error"]["code"]) == (422, "invalid_body")
