"""Customers: an email seen at bookings, till receipts and notify-me requests. Per pop-up the studio
counts each customer once (new: their first purchase anywhere; returning: they had bought before),
their purchases, and what a new one cost when the pop-up's cost is recorded."""

from __future__ import annotations

import uuid
from datetime import datetime

from chalice.test import Client

from chalicelib import wiring
from chalicelib.customers.book import customer_counts
from chalicelib.customers.ports import Known, Sighting
from chalicelib.stock.limits import customer_key
from chalicelib.tills.sales import issue_till_token
from tests.stock.test_pickup import book, order, slots, tomorrow
from tests.tills.test_sales import post, sale


def customer_counters(slug: str = "linen-lab") -> dict[str, int]:
    return {k: v for k, v in wiring.numbers().counts(slug).items() if k.startswith("customer")}


def test_a_purchase_counts_its_customer_once_per_pop_up_and_every_purchase() -> None:
    bought = Sighting("c1", "linen-lab", "paris-marais", "2026-12-05T10:00:00+00:00", purchase=True)
    assert customer_counts(bought, Known(True, True, "paris-marais")) == {
        "customer_purchases@paris-marais": 1,
        "customers@paris-marais": 1,
        "customers_new@paris-marais": 1,
    }
    assert customer_counts(bought, Known(False, True, "brooklyn")) == {
        "customer_purchases@paris-marais": 1,
        "customers@paris-marais": 1,
        "customers_returning@paris-marais": 1,
    }
    assert customer_counts(bought, Known(False, False, "paris-marais")) == {"customer_purchases@paris-marais": 1}
    asked = Sighting("c1", "linen-lab", None, "2026-12-05T10:00:00+00:00", purchase=False)
    assert customer_counts(asked, Known(False, False, None)) == {}


def test_the_store_remembers_the_first_pop_up_and_whether_they_bought_before(client: Client) -> None:
    store = wiring.customers()
    who = customer_key("Ada@Example.org ")

    def seen(popup: str | None, purchase: bool, at: str = "2026-12-05T10:00:00+00:00") -> Known:
        return store.see(Sighting(who, "linen-lab", popup, at, purchase))

    assert seen(None, False) == Known(False, False, None)  # a notify-me request: seen, not a buyer
    assert seen("paris-marais", True) == Known(True, True, "paris-marais")
    assert seen("paris-marais", True) == Known(False, False, "paris-marais")
    assert seen("brooklyn", True) == Known(False, True, "paris-marais")  # the first pop-up stays
    assert store.see(Sighting(who, "winter-knit", "paris-marais", "2026-12-06T10:00:00+00:00", True)) == Known(
        False, True, "paris-marais"
    )  # another drop's pop-up: a customer of that drop's numbers too


def test_bookings_till_receipts_and_notify_requests_reach_the_counters(client: Client, seeded_at: datetime) -> None:
    start = slots(client, tomorrow(seeded_at))[0]["start"]
    ada = {"name": "Ada Lovelace", "email": "ada@example.org"}
    assert book(client, order(start, ("TEE-ECRU", "M", 1), contact=ada)).status_code == 201
    key = str(uuid.uuid4())
    again = order(start, ("TEE-ECRU", "L", 1), contact={"name": "Ada", "email": " ADA@example.org"})
    assert book(client, again, key).status_code == 201
    assert book(client, again, key).status_code == 201  # a replay: counted once
    till = issue_till_token(wiring.tills(), "paris-marais", seeded_at)
    receipts = [
        {**sale("r-1"), "email": "grace@example.org"},  # a new customer at the till
        {**sale("r-2"), "email": "ada@example.org"},  # Ada again
        sale("r-3"),  # no receipt asked for: nobody seen
    ]
    assert post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": receipts}).status_code == 200
    assert post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": receipts}).status_code == 200
    asked = {"email": "lin@example.org"}
    headers = {"Content-Type": "application/json"}
    assert client.http.post("/api/drops/linen-lab/notify", headers=headers, body=_json(asked)).status_code == 202
    assert customer_counters() == {
        "customers@paris-marais": 2,
        "customers_new@paris-marais": 2,
        "customer_purchases@paris-marais": 4,  # Ada's two bookings and her receipt, Grace's receipt
    }


def _json(body: object) -> str:
    import json

    return json.dumps(body)
