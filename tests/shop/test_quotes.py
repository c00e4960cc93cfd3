"""POST /api/quote: server-side prices only, offer tokens honoured only for their own visitor."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from chalice.test import Client

from chalicelib.core.tokens import LIFETIMES, Purpose, sign
from devtools.process import forget_process_state
from tests.conftest import json_of


def post(client: Client, body: Any, cookie: str | None = None, raw: bytes | None = None) -> Any:
    headers = {"Content-Type": "application/json", "CloudFront-Viewer-Country": "FR"}
    if cookie:
        headers["Cookie"] = cookie
    return client.http.post("/api/quote", headers=headers, body=raw if raw is not None else json.dumps(body))


def visitor_with_offers(client: Client) -> tuple[str, dict[str, dict[str, Any]]]:
    response = client.http.get("/api/drops/linen-lab", headers={"CloudFront-Viewer-Country": "FR"})
    cookie = response.headers["Set-Cookie"].split(";")[0]
    offers = {p["sku"]: p["offer"] for p in json_of(response)["products"]}
    return cookie, offers


def basket(*skus: str, qty: Any = 1, **extra: Any) -> dict[str, Any]:
    return {"drop": "linen-lab", "items": [{"sku": s, "size": "M", "qty": qty, **extra} for s in skus]}


def test_quote_prices_afresh_and_totals(client: Client) -> None:
    cookie, offers = visitor_with_offers(client)
    response = post(client, basket("OVR-SAND", "TEE-INK"), cookie)
    assert response.status_code == 200
    body = json_of(response)
    assert [line["unit_minor"] for line in body["lines"]] == [
        offers["OVR-SAND"]["price_minor"],
        offers["TEE-INK"]["price_minor"],
    ]
    assert body["total_minor"] == sum(line["line_minor"] for line in body["lines"])
    assert {line["source"] for line in body["lines"]} == {"priced"}


def test_client_sent_prices_and_cells_are_ignored(client: Client) -> None:
    cookie, offers = visitor_with_offers(client)
    body = basket("OVR-SAND", price_minor=1, unit_minor=1)
    body["cell"] = "five-off"
    body["total_minor"] = 1
    quoted = json_of(post(client, body, cookie))
    assert quoted["lines"][0]["unit_minor"] == offers["OVR-SAND"]["price_minor"]
    assert quoted["total_minor"] == offers["OVR-SAND"]["price_minor"]


def test_a_valid_offer_token_is_honoured_for_its_visitor(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    cookie, offers = visitor_with_offers(client)
    token = offers["OVR-SAND"]["offer_token"]
    quoted = json_of(post(client, {**basket("OVR-SAND"), "offer_tokens": [token]}, cookie))
    assert quoted["lines"][0]["source"] == "offer_token"
    assert quoted["lines"][0]["decision_id"] == offers["OVR-SAND"]["decision_id"]


def test_an_offer_token_below_what_the_guardrail_now_allows_is_priced_afresh(client: Client) -> None:
    """A validly signed token for this visitor, but at a price under the margin floor (as if the policy
    had tightened since): the guardrail checks it again and the line is priced afresh."""
    cookie, offers = visitor_with_offers(client)
    offer = offers["OVR-SAND"]
    visitor_id = offer_claim(offer["offer_token"])["v"]
    too_cheap = sign(Purpose.OFFER, {"s": "OVR-SAND", "p": 100, "c": offer["currency"], "v": visitor_id, "d": "x"})
    quoted = json_of(post(client, {**basket("OVR-SAND"), "offer_tokens": [too_cheap]}, cookie))
    assert quoted["lines"][0]["source"] == "priced"
    assert quoted["lines"][0]["unit_minor"] == offer["price_minor"]


def offer_claim(token: str) -> dict[str, Any]:
    from chalicelib.core.tokens import verify

    claim: dict[str, Any] = verify(Purpose.OFFER, token)
    return claim


def flip(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


@pytest.mark.parametrize("tamper", ["flipped_byte", "other_purpose", "other_visitor", "other_currency"])
def test_bad_offer_tokens_are_ignored_and_the_line_priced_afresh(client: Client, tamper: str) -> None:
    cookie, offers = visitor_with_offers(client)
    offer = offers["OVR-SAND"]
    cheap = {"s": "OVR-SAND", "p": 1, "c": offer["currency"], "v": "someone-else-123", "d": "x"}
    token = {
        "flipped_byte": flip(offer["offer_token"]),
        "other_purpose": sign(Purpose.CAMPAIGN, {**cheap, "v": "ignored"}),
        "other_visitor": sign(Purpose.OFFER, cheap),
        "other_currency": sign(Purpose.OFFER, {**cheap, "c": "JPY"}),
    }[tamper]
    quoted = json_of(post(client, {**basket("OVR-SAND"), "offer_tokens": [token]}, cookie))
    assert quoted["lines"][0]["source"] == "priced"
    assert quoted["lines"][0]["unit_minor"] == offer["price_minor"]


def test_expired_and_rotated_out_tokens_are_ignored(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    cookie, offers = visitor_with_offers(client)
    token = offers["OVR-SAND"]["offer_token"]
    import datetime as dt

    later = dt.datetime.now(dt.UTC) + LIFETIMES[Purpose.OFFER] + timedelta(seconds=5)
    with time_machine.travel(later, tick=False):
        assert (
            json_of(post(client, {**basket("OVR-SAND"), "offer_tokens": [token]}, cookie))["lines"][0]["source"]
            == "priced"
        )
    from chalicelib.core.tokens import verify

    visitor, claims = verify(Purpose.VISITOR, cookie.split("=", 1)[1]), verify(Purpose.OFFER, token)
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "a-brand-new-key")
    forget_process_state()
    same_visitor = f"dfv={sign(Purpose.VISITOR, visitor)}"  # the visitor survives the rotation
    rotated_out = json_of(post(client, {**basket("OVR-SAND"), "offer_tokens": [token]}, same_visitor))
    assert rotated_out["lines"][0]["source"] == "priced"
    resigned = sign(Purpose.OFFER, claims)  # the same claims under the current key are honoured
    current = json_of(post(client, {**basket("OVR-SAND"), "offer_tokens": [resigned]}, same_visitor))
    assert current["lines"][0]["source"] == "offer_token"


def test_discounted_units_per_visitor_are_capped(client: Client) -> None:
    cookie, offers = visitor_with_offers(client)
    # a discounted price from a token for this visitor: only the guardrail's per-visitor units get it
    from chalicelib.core.tokens import verify

    visitor = verify(Purpose.VISITOR, cookie.split("=", 1)[1])["v"]
    price = offers["OVR-SAND"]["list_minor"] - 1000
    own = sign(Purpose.OFFER, {"s": "OVR-SAND", "p": price, "c": "EUR", "v": visitor, "d": "d-1"})
    line = json_of(post(client, {**basket("OVR-SAND", qty=5), "offer_tokens": [own]}, cookie))["lines"][0]
    assert line["discounted_units"] == 2  # max_discounted_units_per_visitor in the demo policy
    assert line["line_minor"] == 2 * price + 3 * offers["OVR-SAND"]["list_minor"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"", 400),
        (b"x" * 20_000, 400),
        (json.dumps({"drop": "linen-lab", "items": []}).encode(), 422),
        (json.dumps(basket("OVR-SAND", qty=0)).encode(), 422),
        (json.dumps(basket("OVR-SAND", qty=-1)).encode(), 422),
        (json.dumps(basket("OVR-SAND", qty=1.5)).encode(), 422),
        (json.dumps(basket("OVR-SAND", qty=2**31)).encode(), 422),
        (json.dumps(basket("OVR-SAND", qty="2")).encode(), 422),
        (json.dumps(basket("NOPE")).encode(), 422),
        (json.dumps({"drop": "no-such-drop", "items": [{"sku": "A", "size": "M", "qty": 1}]}).encode(), 404),
    ],
)
def test_bad_baskets_get_4xx_with_the_envelope(client: Client, body: bytes, status: int) -> None:
    response = post(client, None, raw=body)
    assert response.status_code == status
    assert set(json_of(response)["error"]) >= {"code", "message"}
