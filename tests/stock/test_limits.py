"""Fair shares across requests: one customer (an email, however it is spelled, on any cookie) or one
cookie (under any email) books at most the drop's limit of each SKU and size, and its discounted
units across all its bookings; cancelling gives them back. A cohort's budget is taken with a
condition in the booking's transaction, so it is never overspent."""

from __future__ import annotations

from typing import Any

from chalice.test import Client
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import wiring
from chalicelib.core.models import local_day
from chalicelib.stock.limits import customer_key, normalized_email
from chalicelib.store.client import call
from chalicelib.store.schema import spend_key
from devtools.process import forget_process_state
from tests.conftest import TABLE, json_of
from tests.stock.test_pickup import book, first_slot, order

LIMIT = 2  # the demo drop's units of each SKU and size per customer
__all__ = ["first_slot"]  # the fixture, shared with the pickup tests


def contact(email: str) -> dict[str, str]:
    return {"name": "Ada Lovelace", "email": email}


def visitor_cookie(client: Client, query: str = "") -> str:
    return str(client.http.get(f"/api/drops/linen-lab{query}").headers["Set-Cookie"].split(";")[0])


def cancel(client: Client, booked: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {booked['cancel_token']}"}
    assert client.http.delete(f"/api/pickups/{booked['code']}", headers=headers).status_code == 200


@given(
    local=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=20),
    tag=st.text(alphabet="abcxyz019", max_size=8),
    domain=st.sampled_from(["example.org", "brand.example", "gmail.com"]),
)
def test_an_email_is_one_customer_however_it_is_spelled(local: str, tag: str, domain: str) -> None:
    plain = customer_key(f"{local}@{domain}")
    assert customer_key(f"  {local.upper()}+{tag}@{domain.upper()} ") == plain
    assert customer_key(f"{local}@other.example") != plain


def test_gmail_dots_and_googlemail_are_the_same_mailbox() -> None:
    assert normalized_email("A.da.L@googlemail.com") == normalized_email("adal@gmail.com") == "adal@gmail.com"
    assert normalized_email("a.da@example.org") == "a.da@example.org"  # dots matter elsewhere


def test_one_email_on_many_cookies_books_at_most_the_limit_until_it_cancels(client: Client, first_slot: str) -> None:
    first = book(client, order(first_slot, ("TEE-ECRU", "M", LIMIT), contact=contact("ada@example.org")))
    assert first.status_code == 201, first.body
    again = book(client, order(first_slot, ("TEE-ECRU", "M", 1), contact=contact("ADA+2@example.org")))
    assert again.status_code == 409
    refusal = json_of(again)["error"]
    assert refusal["code"] == "customer_limit"
    assert refusal["details"] == {"limit": LIMIT, "sku": "TEE-ECRU", "size": "M"}
    assert "2 of each piece and size per customer" in refusal["message"]
    other_size = book(client, order(first_slot, ("TEE-ECRU", "L", 1), contact=contact("ada@example.org")))
    assert other_size.status_code == 201  # the limit is per SKU and size
    too_many = book(client, order(first_slot, ("TEE-ECRU", "S", LIMIT + 1), contact=contact("new@example.org")))
    assert json_of(too_many)["error"]["code"] == "customer_limit"  # one booking alone can't pass it either
    cancel(client, json_of(first))
    assert book(client, order(first_slot, ("TEE-ECRU", "M", 1), contact=contact("ada@example.org"))).status_code == 201


def test_one_cookie_under_many_emails_books_at_most_the_limit(client: Client, first_slot: str) -> None:
    cookie = {"Cookie": visitor_cookie(client)}
    for n in range(LIMIT):
        booked = book(
            client, order(first_slot, ("TEE-ECRU", "XS", 1), contact=contact(f"a{n}@example.org")), headers=cookie
        )
        assert booked.status_code == 201, booked.body
    refused = book(client, order(first_slot, ("TEE-ECRU", "XS", 1), contact=contact("z@example.org")), headers=cookie)
    assert json_of(refused)["error"]["code"] == "customer_limit"


def test_discounted_units_count_across_bookings_then_the_price_is_the_list_price(
    client: Client, first_slot: str
) -> None:
    from chalicelib.shop.visitors import campaign_link

    cookie = {"Cookie": visitor_cookie(client, f"?c={campaign_link(cohort='ana')}")}
    units = []
    for sku in ("CRW-OAT", "TEE-ECRU", "OVR-SAND"):  # one discounted unit each, the cap is two
        booked = json_of(book(client, order(first_slot, (sku, "M", 1)), headers=cookie))
        units.append((booked["items"][0]["line_minor"], booked["items"][0]["list_minor"]))
    assert [paid < listed for paid, listed in units] == [True, True, False]
    wiring.forget_adapters()
    mine = wiring.bookings().reserved("linen-lab", customer_key("ada@example.org"), "")
    assert mine.discounted == 2 and mine.of("OVR-SAND", "M") == 1


def test_a_budget_is_never_charged_past_its_end(client: Client, first_slot: str) -> None:
    from chalicelib.shop.visitors import campaign_link

    cookie = {"Cookie": visitor_cookie(client, f"?c={campaign_link(cohort='ana')}")}
    offer = json_of(client.http.get("/api/drops/linen-lab", headers=cookie))
    assert any("segment:creator-ana" in p["offer"]["rules"] for p in offer["products"])
    # The pages still offer the discount (their spend is cached), but only 1 minor unit of it is left.
    call("put_item", TableName=TABLE, Item={**spend_key("linen-lab"), "creator-ana@EUR": {"N": "49999"}})
    refused = book(client, order(first_slot, ("CRW-OAT", "M", 1)), headers=cookie)
    assert refused.status_code == 409 and json_of(refused)["error"]["code"] == "budget_spent"
    forget_process_state()
    spend = wiring.catalog_store().cohort_spend("linen-lab")
    assert spend == {"creator-ana@EUR": 49999}


def _ana(client: Client) -> dict[str, str]:
    from chalicelib.shop.visitors import campaign_link

    return {"Cookie": visitor_cookie(client, f"?c={campaign_link(cohort='ana')}")}


def _paris_offer(client: Client, cookie: dict[str, str], sku: str) -> dict[str, Any]:
    page = json_of(client.http.get("/api/drops/linen-lab", headers={**cookie, "CloudFront-Viewer-Country": "FR"}))
    offer: dict[str, Any] = next(p["offer"] for p in page["products"] if p["sku"] == sku)
    return offer


def test_a_booking_charges_the_drop_its_pop_up_and_its_day(client: Client, first_slot: str) -> None:
    cookie = _ana(client)
    before = local_day("Europe/Paris", wiring.utcnow())
    booked = json_of(book(client, order(first_slot, ("CRW-OAT", "M", 1)), headers=cookie))
    after = local_day("Europe/Paris", wiring.utcnow())
    granted = booked["items"][0]["list_minor"] - booked["items"][0]["line_minor"]
    assert granted > 0
    forget_process_state()
    spend = wiring.catalog_store().cohort_spend("linen-lab")
    day = next(name for name in spend if "@day:" in name).rpartition(":")[2]
    assert day in {before.isoformat(), after.isoformat()}  # the Paris day it was booked on
    assert spend == {
        "creator-ana@EUR": granted,
        "creator-ana@EUR@at:paris-marais": granted,
        f"creator-ana@EUR@day:{day}": granted,
    }


def test_an_offer_token_does_not_outlive_its_budget(client: Client, first_slot: str) -> None:
    """A page shown before the budget ran out carries a discounted token; booking with it afterwards
    is refused, not granted for free."""
    cookie = _ana(client)
    offer = _paris_offer(client, cookie, "CRW-OAT")
    assert "segment:creator-ana" in offer["rules"]
    call("put_item", TableName=TABLE, Item={**spend_key("linen-lab"), "creator-ana@EUR": {"N": "50000"}})
    forget_process_state()  # the pages now know the budget is spent
    assert "segment:creator-ana" not in _paris_offer(client, cookie, "CRW-OAT")["rules"]
    with_token = order(first_slot, ("CRW-OAT", "M", 1), offer_tokens=[offer["offer_token"]])
    refused = book(client, with_token, headers=cookie)
    assert refused.status_code == 409 and json_of(refused)["error"]["code"] == "budget_spent"
    assert wiring.catalog_store().cohort_spend("linen-lab") == {"creator-ana@EUR": 50000}


def test_a_pop_up_whose_budget_is_used_up_books_without_it_while_pages_still_offer_it(
    client: Client, first_slot: str
) -> None:
    cookie = _ana(client)
    call(
        "put_item", TableName=TABLE, Item={**spend_key("linen-lab"), "creator-ana@EUR@at:paris-marais": {"N": "30000"}}
    )
    forget_process_state()
    offer = _paris_offer(client, cookie, "CRW-OAT")
    assert "segment:creator-ana" in offer["rules"]  # Brooklyn's budget is untouched
    booked = book(client, order(first_slot, ("CRW-OAT", "M", 1)), headers=cookie)
    assert booked.status_code == 201, booked.body
    line = json_of(booked)["items"][0]
    assert line["line_minor"] > offer["price_minor"]  # priced at Paris without the cohort's discount
    assert wiring.catalog_store().cohort_spend("linen-lab") == {"creator-ana@EUR@at:paris-marais": 30000}


def test_a_day_whose_budget_is_used_up_refuses_the_discount_that_day(client: Client, first_slot: str) -> None:
    cookie = _ana(client)
    offer = _paris_offer(client, cookie, "TEE-ECRU")
    today = local_day("Europe/Paris", wiring.utcnow()).isoformat()
    day_spent = {f"creator-ana@EUR@day:{today}": {"N": "20000"}}
    call("put_item", TableName=TABLE, Item={**spend_key("linen-lab"), **day_spent})
    with_token = order(first_slot, ("TEE-ECRU", "M", 1), offer_tokens=[offer["offer_token"]])
    refused = book(client, with_token, headers=cookie)
    assert refused.status_code == 409 and json_of(refused)["error"]["code"] == "budget_spent"
    forget_process_state()
    assert "segment:creator-ana" not in _paris_offer(client, cookie, "TEE-ECRU")["rules"]
