"""Notify me, end to end on moto: double opt-in by a signed link, then exactly one message when the
teaser opens or the size is back at a pop-up, sent through the outbox."""

from __future__ import annotations

import email
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from chalice.test import Client
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from app import sweep
from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.stock.ports import StockRef
from devtools.seed import DemoDrop
from tests.conftest import delivery, html_of, json_of

JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages link to the shop's public origin (infra sets it for the sweep)."""
    monkeypatch.setenv("DROPFRONT_PUBLIC_URL", "https://shop.example")
    settings.cache_clear()


def messages(to: str) -> list[email.message.Message]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    parsed = [email.message_from_string(m.raw_data) for m in backend.sent_messages]
    return [m for m in parsed if m["To"] == to]


def text_of(message: email.message.Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def ask(client: Client, slug: str, **body: Any) -> Any:
    return client.http.post(f"/api/drops/{slug}/notify", headers=JSON, body=json.dumps(body))


def confirm_from_inbox(client: Client, to: str) -> Any:
    (message,) = messages(to)
    link = re.search(r"https://shop\.example/notify/confirm\?\S+", text_of(message))
    assert link, text_of(message)
    parts = urlsplit(link.group(0))
    return client.http.get(f"{parts.path}?{parts.query}")


def test_a_teaser_subscriber_confirms_then_hears_once_when_it_opens(client: Client, demo: list[DemoDrop]) -> None:
    assert ask(client, "winter-knit", email="ada@example.org", locale="fr").status_code == 202
    assert ask(client, "winter-knit", email="ADA@example.org", locale="fr").status_code == 202  # asked twice
    now = wiring.utcnow()
    sweep(now)
    (confirmation,) = messages("ada@example.org")
    assert "Confirmez" in str(email.header.make_header(email.header.decode_header(confirmation["Subject"])))
    page = confirm_from_inbox(client, "ada@example.org")
    assert page.status_code == 200 and "Vous êtes sur la liste" in html_of(page)
    sweep(now + timedelta(minutes=1))
    assert len(messages("ada@example.org")) == 1  # nothing more while it is a teaser
    opens = demo[1].catalog.drop.starts_at
    sweep(opens + timedelta(minutes=1))
    sweep(opens + timedelta(minutes=2))
    confirmation, opened = messages("ada@example.org")
    assert "/drops/winter-knit?lang=fr" in text_of(opened)


def test_nobody_unconfirmed_is_written_to_again(client: Client, demo: list[DemoDrop]) -> None:
    assert ask(client, "winter-knit", email="bo@example.org").status_code == 202
    sweep(wiring.utcnow())
    sweep(demo[1].catalog.drop.starts_at + timedelta(minutes=1))
    assert len(messages("bo@example.org")) == 1  # the confirmation only


def test_a_sold_out_size_subscriber_hears_once_when_it_is_back(client: Client) -> None:
    assert ask(client, "linen-lab", email="cy@example.org", sku="TRS-STONE", size="XS", locale="en").status_code == 202
    now = wiring.utcnow()
    sweep(now)
    assert confirm_from_inbox(client, "cy@example.org").status_code == 200
    sweep(now + timedelta(minutes=1))
    assert len(messages("cy@example.org")) == 1  # still sold out at the pop-ups
    wiring.stock().restock(StockRef("linen-lab", 0, "TRS-STONE", "XS", "paris-marais"), 1, delivery)
    sweep(now + timedelta(minutes=2))
    sweep(now + timedelta(minutes=3))
    back = messages("cy@example.org")[1:]
    assert len(back) == 1 and "back at the pop-ups" in text_of(back[0])


@pytest.mark.parametrize(
    ("slug", "body", "status", "code"),
    [
        ("linen-lab", {"email": "not-an-address"}, 422, "invalid_body"),
        ("linen-lab", {"email": "a@b.co", "sku": "NOPE"}, 422, "unknown_item"),
        ("linen-lab", {"email": "a@b.co", "size": "M"}, 422, "size_without_sku"),
        ("linen-lab", {"email": "a@b.co", "sku": "TEE-ECRU", "size": "XXXL"}, 422, "unknown_item"),
        ("no-such-drop", {"email": "a@b.co"}, 404, "drop_not_found"),
    ],
)
def test_a_request_that_cannot_be_kept_says_why(
    client: Client, slug: str, body: dict[str, str], status: int, code: str
) -> None:
    response = ask(client, slug, **body)
    assert response.status_code == status and json_of(response)["error"]["code"] == code


def test_a_forged_confirmation_link_is_refused(client: Client) -> None:
    response = client.http.get("/notify/confirm?t=not-a-token")
    assert response.status_code == 401


def test_the_teaser_page_form_asks_and_says_so(client: Client) -> None:
    site: dict[str, str] = {}
    page = client.http.get("/drops/winter-knit?lang=en", headers=site)
    cookie = page.headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="ft" value="([^"]+)"', html_of(page))
    assert token and 'action="/drops/winter-knit/notify?lang=en"' in html_of(page)
    form = {
        **site,
        "Origin": "https://shop.example",
        "Cookie": cookie,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    sent = client.http.post(
        "/drops/winter-knit/notify?lang=en",
        headers=form,
        body=urlencode({"ft": token.group(1), "email": "di@example.org"}),
    )
    assert sent.status_code == 303 and sent.headers["Location"] == "/drops/winter-knit?lang=en&m=notify"
    after = client.http.get(sent.headers["Location"], headers={**site, "Cookie": cookie})
    assert "Check your inbox" in html_of(after)
    sweep(wiring.utcnow())
    assert len(messages("di@example.org")) == 1
