"""openapi.yaml stays true: it is valid, names exactly the app's routes, and real responses match it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from chalice.test import Client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.conftest import json_of

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
