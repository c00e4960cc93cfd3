"""openapi.yaml stays true: it is valid, names exactly the app's routes, and real responses match it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from chalice.test import Client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.conftest import json_of, scan_claim_of

SPEC: dict[str, Any] = yaml.safe_load((Path(__file__).resolve().parent.parent / "openapi.yaml").read_text())


def test_the_spec_is_valid_openapi() -> None:
    validate(SPEC)


def test_the_spec_names_exactly_the_apps_routes() -> None:
    from app import app

    routes = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    documented = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert documented == routes


def schema_for(path: str, status: str, method: str = "get") -> Draft202012Validator:
    response = SPEC["paths"][path][method]["responses"][status]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = {**response["content"]["application/json"]["schema"], "components": SPEC["components"]}
    return Draft202012Validator(schema)


@pytest.mark.parametrize(
    ("url", "path", "status"),
    [
        ("/healthz", "/healthz", "200"),
        ("/api/drops", "/api/drops", "200"),
        ("/api/drops?lang=%3C", "/api/drops", "400"),
        ("/api/drops/linen-lab?lang=ja", "/api/drops/{slug}", "200"),
        ("/api/drops/nope", "/api/drops/{slug}", "404"),
        ("/api/drops/linen-lab/stock", "/api/drops/{slug}/stock", "200"),
    ],
)
def test_responses_match_the_spec(client: Client, url: str, path: str, status: str) -> None:
    response = client.http.get(url)
    assert str(response.status_code) == status
    errors = sorted(schema_for(path, status).iter_errors(json_of(response)), key=str)
    assert errors == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"drop": "linen-lab", "items": [{"sku": "OVR-SAND", "size": "M", "qty": 2}]}, "200"),
        ({"drop": "linen-lab", "items": [{"sku": "OVR-SAND", "size": "M", "qty": 0}]}, "422"),
    ],
)
def test_quote_responses_match_the_spec(client: Client, body: dict[str, Any], status: str) -> None:
    import json

    response = client.http.post("/api/quote", headers={"Content-Type": "application/json"}, body=json.dumps(body))
    assert str(response.status_code) == status
    assert sorted(schema_for("/api/quote", status, "post").iter_errors(json_of(response)), key=str) == []


def test_pickup_and_till_responses_match_the_spec(client: Client, seeded_at: Any) -> None:
    import json
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from chalicelib import wiring
    from chalicelib.tills.sales import issue_till_token

    day = (seeded_at.astimezone(ZoneInfo("Europe/Paris")) + timedelta(days=1)).date()
    slots = client.http.get(f"/api/popups/paris-marais/slots?date={day}")
    assert list(schema_for("/api/popups/{popup}/slots", "200").iter_errors(json_of(slots))) == []
    order = {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "slot_start": json_of(slots)["slots"][0]["start"],
        "items": [{"sku": "TRS-STONE", "size": "S", "qty": 1}],
        "contact": {"name": "Ada", "email": "ada@example.org"},
    }
    checks = []
    for status, key in (("201", "spec-key-0001"), ("409", "spec-key-0002")):
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        response = client.http.post("/api/pickups", headers=headers, body=json.dumps(order))
        checks.append((response, "/api/pickups", status, "post"))
    booked = json_of(checks[0][0])
    bearer = {"Authorization": f"Bearer {booked['cancel_token']}"}
    checks.append(
        (client.http.delete(f"/api/pickups/{booked['code']}", headers=bearer), "/api/pickups/{code}", "200", "delete")
    )
    till = issue_till_token(wiring.tills(), "paris-marais", seeded_at)
    sale = {
        "sale_id": "s1",
        "sku": "TEE-ECRU",
        "size": "M",
        "qty": 1,
        "price_minor": 4100,
        "sold_at": seeded_at.isoformat(),
    }
    sales = client.http.post(
        "/api/pos/sales",
        headers={"Authorization": f"Bearer {till}", "Content-Type": "application/json"},
        body=json.dumps({"popup": "paris-marais", "sales": [sale]}),
    )
    checks.append((sales, "/api/pos/sales", "200", "post"))
    for response, path, status, method in checks:
        assert str(response.status_code) == status, (path, response.body)
        assert sorted(schema_for(path, status, method).iter_errors(json_of(response)), key=str) == []


def test_try_on_responses_match_the_spec(client: Client, seeded_at: Any) -> None:
    import json

    from chalicelib import wiring
    from chalicelib.tills.sales import issue_till_token
    from chalicelib.tryon.tags import Tag, tag_token

    token = tag_token(Tag("paris-marais", "OVR-SAND", "M"))
    page = client.http.get(f"/t/{token}")
    cookie = {"Cookie": page.headers["Set-Cookie"].split(";")[0]}
    headers = {"Content-Type": "application/json", **cookie}
    scanned = {"qr_token": token, "scan": scan_claim_of(page)}
    asked = client.http.post("/api/tryons", headers=headers, body=json.dumps({**scanned, "size": "M"}))
    refused = client.http.post("/api/tryons", headers=headers, body=json.dumps({**scanned, "size": "XL"}))
    no_scan = client.http.post("/api/tryons", headers=headers, body=json.dumps({**scanned, "scan": "x", "size": "L"}))
    till = {"Authorization": f"Bearer {issue_till_token(wiring.tills(), 'paris-marais', seeded_at)}"}
    queue = client.http.get("/api/staff/tryons", headers=till)
    tryon = json_of(asked)["tryon_id"]
    called = client.http.post(
        f"/api/staff/tryons/{tryon}", headers={**till, **headers}, body=json.dumps({"action": "call"})
    )
    cancelled = client.http.delete(f"/api/tryons/{tryon}", headers=cookie)
    checks = [
        (asked, "/api/tryons", "201", "post"),
        (refused, "/api/tryons", "409", "post"),
        (no_scan, "/api/tryons", "403", "post"),
        (queue, "/api/staff/tryons", "200", "get"),
        (called, "/api/staff/tryons/{tryon_id}", "200", "post"),
        (cancelled, "/api/tryons/{tryon_id}", "200", "delete"),
    ]
    for response, path, status, method in checks:
        assert str(response.status_code) == status, (path, response.body)
        assert sorted(schema_for(path, status, method).iter_errors(json_of(response)), key=str) == []
