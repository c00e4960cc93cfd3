"""The waiting room through the shop's routes: a ticket on the first view, the queue page while
shoppers are ahead, a pass once let in, and holds and bookings refused without one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core.audit import AuditEntry
from chalicelib.core.models import WaitingRoom
from chalicelib.shop.visitors import form_token, identify
from chalicelib.store.client import dynamodb
from chalicelib.tryon.tags import Tag, scan_claim, tag_token, tag_url
from tests.conftest import html_of, json_of

OPENS = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
SITE = {"Host": "shop.example", "X-Forwarded-Proto": "https", "Origin": "https://shop.example"}


class Browser:
    """One shopper's cookies across requests, as a browser keeps them."""

    def __init__(self, client: Client) -> None:
        self.client, self.cookies = client, dict[str, str]()

    def header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def keep(self, response: Any) -> Any:
        sent = response.headers.get("Set-Cookie") or []
        for line in [sent] if isinstance(sent, str) else sent:
            name, _, value = line.split(";")[0].partition("=")
            self.cookies[name] = value
        return response

    def view(self, lang: str = "en") -> Any:
        return self.keep(self.client.http.get(f"/drops/linen-lab?lang={lang}", headers={**SITE, **self.header()}))

    def hold(self) -> Any:
        body = {"drop": "linen-lab", "popup": "paris-marais", "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}]}
        headers = {"Content-Type": "application/json", **self.header()}
        return self.keep(self.client.http.post("/api/holds", headers=headers, body=json.dumps(body)))


@pytest.fixture
def room(client: Client) -> Iterator[None]:
    """linen-lab opens in two hours behind a room that lets one shopper in a second for 30 minutes."""
    store = wiring.catalog_store()
    catalog = store.drop_catalog("linen-lab")
    assert catalog is not None
    drop = replace(catalog.drop, starts_at=OPENS, waiting_room=WaitingRoom(admit_per_minute=60, minutes=30))
    store.save_drop(replace(catalog, drop=drop), AuditEntry("linen-lab", "test", "drop", "room", "x"))
    wiring.catalog.cache_clear()
    yield


def at(seconds: float) -> time_machine.travel:
    return time_machine.travel(OPENS + timedelta(seconds=seconds), tick=False)


def queued(response: Any) -> bool:
    return 'id="queue"' in html_of(response)


def test_a_shopper_before_the_opening_gets_a_place_and_the_countdown(client: Client, room: None) -> None:
    shopper = Browser(client)
    with at(-300):
        page = shopper.view()
    assert page.status_code == 200 and not queued(page)
    assert "dfq-linen-lab" in shopper.cookies and "dfa-linen-lab" not in shopper.cookies
    assert "You have your place in the queue for the opening" in html_of(page)  # the teaser says so


def test_shoppers_are_let_in_in_the_order_they_came(client: Client, room: None) -> None:
    first, second, third = Browser(client), Browser(client), Browser(client)
    for offset, shopper in zip((-3, -2, -1), (first, second, third), strict=True):
        with at(offset):
            shopper.view()
    with at(0.5):  # half a shopper's worth of the rate: the first is in
        pages = [shopper.view() for shopper in (first, second, third)]
    assert not queued(pages[0]) and "dfa-linen-lab" in first.cookies
    assert 'name="ft"' in html_of(pages[0])  # the drop's page, with its reserve forms
    assert queued(pages[1]) and "You are next." in html_of(pages[1])
    assert queued(pages[2]) and "1 person is ahead of you." in html_of(pages[2])
    assert pages[2].headers["Cache-Control"] == "no-store"
    assert re.search(r'<meta http-equiv="refresh" content="5">', html_of(pages[2]))
    assert re.search(r'<progress max="100" value="33"', html_of(pages[2]))  # 2 ahead on arrival, 1 now
    with at(1.5):
        assert not queued(second.view()) and queued(third.view())
    with at(2.5):
        assert not queued(third.view())


def two_in_line(client: Client) -> tuple[Browser, Browser]:
    """Two shoppers who came before the opening; the first is in half a second after it."""
    inside, waiting = Browser(client), Browser(client)
    with at(-2):
        inside.view()
    with at(-1):
        waiting.view()
    with at(0.5):
        inside.view(), waiting.view()
    return inside, waiting


def test_only_shoppers_let_in_reach_the_stock(client: Client, room: None) -> None:
    inside, waiting = two_in_line(client)
    with at(0.5):
        refused = waiting.hold()
        assert inside.hold().status_code == 201
        assert refused.status_code == 429 and json_of(refused)["error"]["code"] == "in_queue"
        assert refused.headers["Retry-After"] == "10"
        booking = {
            "drop": "linen-lab",
            "popup": "paris-marais",
            "slot_start": (OPENS + timedelta(days=1)).isoformat(),
            "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}],
            "contact": {"name": "Ada", "email": "ada@example.com"},
        }
        headers = {"Content-Type": "application/json", "Idempotency-Key": "k" * 16, **waiting.header()}
        booked = client.http.post("/api/pickups", headers=headers, body=json.dumps(booking))
        assert booked.status_code == 429 and json_of(booked)["error"]["code"] == "in_queue"
        waiting.cookies["dfa-linen-lab"] = inside.cookies["dfa-linen-lab"]  # a pass lent to another browser
        assert waiting.hold().status_code == 429
    with at(31 * 60):  # the room has closed: everyone goes straight in
        assert waiting.hold().status_code == 201


def test_the_reserve_form_of_a_shopper_not_let_in_leads_back_to_the_queue(client: Client, room: None) -> None:
    """A form posted from a page opened before the room was on: its token is the visitor's own."""
    inside, waiting = two_in_line(client)
    headers = {**SITE, "Content-Type": "application/x-www-form-urlencoded"}
    for shopper in (inside, waiting):
        visitor, _ = identify(f"dfv={shopper.cookies['dfv']}")
        form = {"ft": form_token(visitor.id), "sku": "TEE-ECRU", "size": "M", "popup": "paris-marais", "qty": "1"}
        with at(0.5):
            sent = client.http.post(
                "/drops/linen-lab/reserve?lang=en", headers={**headers, **shopper.header()}, body=urlencode(form)
            )
        assert sent.status_code == 303
        if shopper is inside:
            assert "/holds/" in sent.headers["Location"]
        else:
            assert sent.headers["Location"] == "/drops/linen-lab?lang=en"


def test_a_forged_ticket_goes_to_the_back(client: Client, room: None) -> None:
    first, forger = Browser(client), Browser(client)
    with at(-2):
        first.view()
    with at(-1):
        forger.view()
    ticket = forger.cookies["dfq-linen-lab"]
    forger.cookies["dfq-linen-lab"] = ("A" if ticket[0] != "A" else "B") + ticket[1:]
    with at(0.5):
        assert not queued(first.view())
        page = forger.view()
    assert queued(page) and forger.cookies["dfq-linen-lab"] != ticket  # a new ticket, issued now: last


def test_waiting_writes_nothing(client: Client, room: None) -> None:
    """A queued shopper's refreshes read the room's counts and write nothing (this process wrote
    its tally of arrivals on the first view of the second)."""
    ahead, waiting = Browser(client), Browser(client)
    with at(-2):
        ahead.view()
    with at(-1):
        waiting.view()
    writes: list[str] = []

    def record(model: Any, **_: Any) -> None:
        if model.name not in ("Query", "GetItem", "BatchGetItem"):
            writes.append(model.name)

    dynamodb().meta.events.register("before-call.dynamodb", record)
    with at(-0.5):
        for _ in range(5):
            assert waiting.view().status_code == 200
    assert writes == []


def test_arrivals_are_written_once_a_second_and_read_back(client: Client, room: None) -> None:
    shoppers = [Browser(client) for _ in range(4)]
    with at(-10):
        for shopper in shoppers:
            shopper.view()
    with at(-8):
        Browser(client).view()  # the next second's first view writes the tally
    since = int((OPENS - timedelta(minutes=15)).timestamp())
    assert wiring.arrivals().arrivals("linen-lab", since) == {
        int(OPENS.timestamp()) - 10: 4,
        int(OPENS.timestamp()) - 8: 1,
    }


def test_the_qr_try_on_page_queues_too_and_a_try_on_needs_the_pass(client: Client, room: None) -> None:
    """A tag's URL can travel online: while the room is on, the pop-up's page queues as the drop's
    does (the stock is the same), and a try-on, which holds a piece, asks for the pass."""
    tag = Tag("paris-marais", "TEE-ECRU", "M")
    inside, waiting = two_in_line(client)
    with at(0.5):
        headers = {**SITE, **waiting.header()}
        page = waiting.keep(client.http.get(tag_url("", tag) + "?lang=fr", headers=headers))
        assert queued(page) and "Vous êtes dans la file d’attente" in html_of(page)
        assert f'href="/t/{tag_token(tag)}?lang=fr"' in html_of(page)  # "Check now" asks for this page again
        tryons = []
        for shopper in (inside, waiting):
            visitor, _ = identify(f"dfv={shopper.cookies['dfv']}")
            body = {"qr_token": tag_token(tag), "scan": scan_claim(tag, visitor.id), "size": "M"}
            headers = {"Content-Type": "application/json", **shopper.header()}
            tryons.append(client.http.post("/api/tryons", headers=headers, body=json.dumps(body)))
        assert tryons[0].status_code == 201
        assert tryons[1].status_code == 429 and json_of(tryons[1])["error"]["code"] == "in_queue"
        assert not queued(inside.keep(client.http.get(tag_url("", tag), headers={**SITE, **inside.header()})))
