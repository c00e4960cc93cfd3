"""Offers end to end: segments from signed links and headers, fail closed, decisions logged and replayable."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core.tokens import Purpose, sign
from chalicelib.pricing.engine import expand, replay
from chalicelib.pricing.experiments import assign, pricing_cell
from chalicelib.pricing.logged import logged_entries
from chalicelib.shop.visitors import campaign_link
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.client import dynamodb
from chalicelib.telemetry import logger
from devtools.seed import DemoDrop
from tests.conftest import TABLE, json_of


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    yield buffer


def entries(log: io.StringIO, message: str) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, log.getvalue().splitlines()) if e.get("message") == message]


def pricing_lines(log: io.StringIO) -> list[dict[str, Any]]:
    """The ``pricing`` part of each request's log line."""
    return [e["pricing"] for e in entries(log, "request") if "pricing" in e]


def offers(response: Any) -> dict[str, dict[str, Any]]:
    return {p["sku"]: p["offer"] for p in json_of(response)["products"]}


def test_a_campaign_link_makes_a_gold_visitor_and_the_guardrail_caps_it(client: Client) -> None:
    link = campaign_link(tier="gold")
    response = client.http.get(f"/api/drops/linen-lab?c={link}", headers={"CloudFront-Viewer-Country": "FR"})
    priced = offers(response)
    sand = priced["OVR-SAND"]
    assert "segment:gold" in sand["rules"] and sand["price_minor"] < sand["list_minor"]
    assert priced["TOTE-ECRU"]["rules"] == ["override:disable"]  # the merchant's override wins
    assert priced["JKT-RUST"]["discount_bps"] <= 1000  # per-SKU depth cap
    cookie = response.headers["Set-Cookie"].split(";")[0]
    again = offers(
        client.http.get("/api/drops/linen-lab", headers={"Cookie": cookie, "CloudFront-Viewer-Country": "FR"})
    )
    assert "segment:gold" in again["OVR-SAND"]["rules"]  # remembered in the signed cookie


def test_tampered_campaign_links_are_anonymous_not_errors(client: Client) -> None:
    link = campaign_link(tier="gold")
    response = client.http.get(f"/api/drops/linen-lab?c={link[:-3]}xyz")
    assert response.status_code == 200
    assert all("segment:gold" not in o["rules"] for o in offers(response).values())


def test_a_viewer_near_a_popup_gets_its_neighbourhood_offer(client: Client) -> None:
    headers = {
        "CloudFront-Viewer-Latitude": "48.8610",
        "CloudFront-Viewer-Longitude": "2.3600",
        "CloudFront-Viewer-Country": "FR",
    }
    assert (
        "segment:popup-paris" in offers(client.http.get("/api/drops/linen-lab", headers=headers))["OVR-SAND"]["rules"]
    )


def control_visitor_cookie(demo: list[DemoDrop]) -> str:
    """A returning visitor whose id hashes into no discounted cell (found, never chosen)."""
    policy = demo[0].pricing
    assert policy is not None
    visitor = next(
        f"visitor-{i:04d}"
        for i in range(10_000)
        if pricing_cell(assign(f"visitor-{i:04d}", policy.experiments)) is None
    )
    return f"dfv={sign(Purpose.VISITOR, {'v': visitor})}"


def test_a_client_cannot_choose_a_cell(client: Client, demo: list[DemoDrop]) -> None:
    cookie = control_visitor_cookie(demo)
    plain = offers(client.http.get("/api/drops/linen-lab", headers={"Cookie": cookie}))
    asked = offers(
        client.http.get("/api/drops/linen-lab?cell=five-off&experiment=launch-depth", headers={"Cookie": cookie})
    )
    assert {sku: (o["price_minor"], o["rules"]) for sku, o in asked.items()} == {
        sku: (o["price_minor"], o["rules"]) for sku, o in plain.items()
    }
    assert not any(rule.startswith("cell:") for o in asked.values() for rule in o["rules"])


def failing_policy_read(kind: str) -> Any:
    """A botocore ``before-send`` handler for the batch read of the drop's pricing (its other batch
    reads, the drop's places, go through): the endpoint unreachable, or a non-retryable AccessDenied."""
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import EndpointConnectionError

    class Body:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b'{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"not allowed"}'

    def unreachable(request: Any, **_: Any) -> None:
        if b"POLICY#" in request.body:
            raise EndpointConnectionError(endpoint_url=request.url)

    def denied(request: Any, **_: Any) -> AWSResponse | None:
        if b"POLICY#" not in request.body:
            return None
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "AccessDeniedException"}, Body())

    return {"unreachable": unreachable, "access_denied": denied}[kind]


@pytest.mark.parametrize("kind", ["unreachable", "access_denied"])
def test_policy_read_failure_fails_closed(
    client: Client, log: io.StringIO, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    handler = failing_policy_read(kind)
    dynamodb().meta.events.register_first("before-send.dynamodb.BatchGetItem", handler)
    try:
        response = client.http.get("/api/drops/linen-lab?c=" + campaign_link(tier="gold"))
    finally:
        dynamodb().meta.events.unregister("before-send.dynamodb.BatchGetItem", handler)
    assert response.status_code == 200
    for offer in offers(response).values():
        assert offer["price_minor"] == offer["list_minor"] and offer["discount_bps"] == 0
    assert entries(log, "pricing policy unreadable: failing closed")
    assert "GuardrailFailClosed" in capsys.readouterr().out
    decisions = logged_entries(pricing_lines(log)[0])
    assert {tuple(d["clamps"]) for d in decisions} == {("policy_unavailable",)}


def test_every_decision_is_logged_once_per_view_and_replays_exactly(client: Client, log: io.StringIO) -> None:
    client.http.get("/drops/linen-lab?c=" + campaign_link(cohort="ana"), headers={"CloudFront-Viewer-Country": "DE"})
    (line,) = pricing_lines(log)
    assert line["exposure"] and line["policy_version"] == 1
    store = DynamoCatalog(TABLE)
    policy = store.pricing_policy("linen-lab", version=line["policy_version"])
    records = expand(line["shared"], line["policy_version"], logged_entries(line))
    assert len(records) == 12
    for entry in records:
        decision = replay(entry, policy)
        assert decision.price_minor == entry["price_minor"]
        assert list(decision.clamps) == entry["clamps"]
    assert any("segment:creator-ana" in d["rules"] for d in records)


def test_offer_metrics_by_cell_depth_and_clamp(client: Client, log: io.StringIO) -> None:
    client.http.get("/drops/linen-lab?c=" + campaign_link(tier="gold"))
    (line,) = entries(log, "request")
    (offers_directive,) = [d for d in line["_aws"]["CloudWatchMetrics"] if ["service", "cell"] in d["Dimensions"]]
    names = {m["Name"] for m in offers_directive["Metrics"]}
    assert {"OfferShown", "DiscountDepthBps", "GuardrailClamp_override_disable"} <= names
    assert line["OfferShown"] == 12 and line["cell"] and line["GuardrailClamp_override_disable"] >= 1
    assert 0 < line["DiscountDepthBps"] < 10_000


def test_a_price_that_depends_on_who_asks_says_so(client: Client) -> None:
    """Consumer Rights Directive Art. 6(1)(ea): a gold member's price is marked personalized, on the
    page in their language and in the JSON; a price everyone gets is not."""
    gold = client.http.get(
        f"/drops/linen-lab?lang=de&c={campaign_link(tier='gold')}", headers={"CloudFront-Viewer-Country": "FR"}
    )
    page = gold.body.decode()
    assert '<span class="yours">Ihr Preis</span>' in page and "personalisiert" in page
    cookie = gold.headers["Set-Cookie"].split(";")[0]
    priced = offers(
        client.http.get("/api/drops/linen-lab", headers={"Cookie": cookie, "CloudFront-Viewer-Country": "FR"})
    )
    assert priced["OVR-SAND"]["personalized"] is True and "segment:gold" in priced["OVR-SAND"]["rules"]
    assert priced["TOTE-ECRU"]["personalized"] is False  # the merchant's override: list price for all
    for offer in priced.values():
        assert offer["reference_minor"] == offer["list_minor"]  # the demo's prices have not changed
