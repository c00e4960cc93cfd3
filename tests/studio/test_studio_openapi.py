"""studio-openapi.yaml stays true: it is valid, names exactly the studio's /studio/api/ routes, and
real responses match it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.routing import Route
from starlette.testclient import TestClient

from chalicelib.studio.app import create_app
from chalicelib.studio.auth import Role
from tests.studio.conftest import AUTH, as_role, csrf_of
from tests.studio.test_template_views import with_mark

SPEC: dict[str, Any] = yaml.safe_load((Path(__file__).resolve().parents[2] / "studio-openapi.yaml").read_text())


def test_the_spec_is_valid_openapi() -> None:
    validate(SPEC)


def test_the_spec_names_exactly_the_studios_api_routes() -> None:
    routes = {
        (route.path, method.lower())
        for route in create_app().routes
        if isinstance(route, Route) and route.path.startswith("/studio/api/")
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, item in SPEC["paths"].items() for method in item if method != "parameters"}
    assert documented == routes


def _schema(path: str, method: str, status: int) -> Draft202012Validator:
    response = SPEC["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return Draft202012Validator({**response["content"]["application/json"]["schema"], "components": SPEC["components"]})


def _check(response: Any, path: str, method: str) -> None:
    assert str(response.status_code) in SPEC["paths"][path][method]["responses"], response.text
    errors = sorted(_schema(path, method, response.status_code).iter_errors(response.json()), key=str)
    assert errors == []


T = "/studio/api/templates/{name}"


@pytest.mark.parametrize("role", [None, Role.STAFF])
def test_refusals_match_the_spec(studio: TestClient, role: Role | None) -> None:
    headers = as_role(role) if role else {}
    _check(studio.get("/studio/api/templates", headers=headers), "/studio/api/templates", "get")
    _check(studio.put("/studio/api/templates/landing", headers=headers, json={"source": ""}), T, "put")


def test_answers_match_the_spec(studio: TestClient) -> None:
    _check(studio.put("/studio/api/templates/landing", headers=AUTH, json={"source": "{{ nope }}"}), T, "put")
    _check(studio.put("/studio/api/templates/landing", headers=AUTH, json={"source": with_mark()}), T, "put")
    _check(studio.get("/studio/api/templates/landing", headers=AUTH), T, "get")
    _check(studio.post("/studio/api/templates/landing/publish", headers=AUTH), T + "/publish", "post")
    _check(
        studio.post("/studio/api/templates/landing/publish", headers=AUTH, json={"version": 5}), T + "/publish", "post"
    )
    scheduled = {"version": 0, "at": "2099-01-01T10:00:00+01:00"}
    _check(studio.post("/studio/api/templates/landing/publish", headers=AUTH, json=scheduled), T + "/publish", "post")
    _check(studio.get("/studio/api/templates", headers=AUTH), "/studio/api/templates", "get")
    _check(studio.get("/studio/api/templates/landing/versions", headers=AUTH), T + "/versions", "get")
    _check(studio.get("/studio/api/templates/landing/diff?from=0&to=1", headers=AUTH), T + "/diff", "get")
    _check(studio.get("/studio/api/templates/landing/diff?from=0&to=a", headers=AUTH), T + "/diff", "get")
    _check(studio.post("/studio/api/templates/landing/rollback", headers=AUTH), T + "/rollback", "post")
    _check(studio.post("/studio/api/templates/landing/rollback", headers=AUTH), T + "/rollback", "post")
    _check(studio.get("/studio/api/outbox", headers=AUTH), "/studio/api/outbox", "get")
    tags = "/studio/api/drops/{slug}/qr-tags"
    _check(studio.get("/studio/api/drops/linen-lab/qr-tags?popup=paris-marais", headers=AUTH), tags, "get")
    _check(studio.get("/studio/api/drops/linen-lab/qr-tags?popup=nowhere", headers=AUTH), tags, "get")


def test_drop_answers_match_the_spec(studio: TestClient) -> None:
    d = "/studio/api/drops/{slug}"
    _check(studio.get("/studio/api/drops", headers=AUTH), "/studio/api/drops", "get")
    _check(studio.get("/studio/api/drops/linen-lab", headers=AUTH), d, "get")
    _check(studio.get("/studio/api/drops/nope", headers=AUTH), d, "get")
    _check(studio.put("/studio/api/drops/linen-lab", headers=AUTH, json={"revision": 0, "fields": {}}), d, "put")
    _check(studio.put("/studio/api/drops/linen-lab", headers=AUTH, json={"revision": 0, "fields": {}}), d, "put")
    bad = {"revision": 1, "fields": {"starts_at": "soon"}}
    _check(studio.put("/studio/api/drops/linen-lab", headers=AUTH, json=bad), d, "put")
    _check(studio.get("/studio/api/drops/linen-lab/pricing", headers=AUTH), d + "/pricing", "get")
    version = studio.get("/studio/api/drops/linen-lab/pricing", headers=AUTH).json()["version"]
    change = {"version": version, "action": "guardrail", "fields": {"max_discount_pct": "20"}}
    _check(studio.post("/studio/api/drops/linen-lab/pricing", headers=AUTH, json=change), d + "/pricing", "post")
    _check(studio.get("/studio/api/drops/linen-lab/audit", headers=AUTH), d + "/audit", "get")
    _check(studio.get("/studio/api/drops/linen-lab/numbers", headers=AUTH), d + "/numbers", "get")


def test_staff_answers_match_the_spec(studio: TestClient) -> None:
    staff = as_role(Role.STAFF)
    csrf = {"X-CSRF-Token": csrf_of(studio.get("/studio/popups/paris-marais", headers=staff).text)}
    p = "/studio/api/popups/{popup}"
    _check(studio.get("/studio/api/popups/paris-marais", headers=staff), p, "get")
    _check(studio.get("/studio/api/popups/paris-marais", headers=as_role(Role.EDITOR)), p, "get")
    _check(studio.post("/studio/api/popups/paris-marais/tills", headers=staff | csrf), p + "/tills", "post")
    (till,) = studio.get("/studio/api/popups/paris-marais", headers=staff).json()["tills"][-1:]
    _check(
        studio.delete(f"/studio/api/popups/paris-marais/tills/{till['id']}", headers=staff | csrf),
        p + "/tills/{id}",
        "delete",
    )
    _check(studio.get("/studio/api/popups/paris-marais/pickups/ZZZZZZZZ", headers=staff), p + "/pickups/{code}", "get")
    tryon = {"action": "call"}
    _check(
        studio.post(f"/studio/api/popups/paris-marais/tryons/{'0' * 17}", headers=staff | csrf, json=tryon),
        p + "/tryons/{id}",
        "post",
    )
