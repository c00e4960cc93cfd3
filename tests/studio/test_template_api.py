"""The studio's JSON API for templates: roles on every route (tests/studio/test_routes.py holds each
to a login), the same checks as the editor, and the round trip a brand's repository makes (save →
preview → publish → shoppers see it → roll back → gone)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalice.test import Client
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.core.models import iso
from chalicelib.studio.auth import Role
from tests.conftest import html_of
from tests.studio.conftest import AUTH, as_role, csrf_of
from tests.studio.test_template_views import MARK, with_mark

ROUTES = [
    ("GET", "/studio/api/templates", None),
    ("GET", "/studio/api/templates/landing", None),
    ("PUT", "/studio/api/templates/landing", {"source": "<p>hi</p>"}),
    ("POST", "/studio/api/templates/landing/preview", {}),
    ("POST", "/studio/api/templates/landing/publish", {"version": 0}),
    ("POST", "/studio/api/templates/landing/rollback", {}),
    ("GET", "/studio/api/templates/landing/versions", None),
    ("GET", "/studio/api/templates/landing/diff?from=0&to=0", None),
]
WRITES_BY_ROLE = {
    "PUT": Role.EDITOR,
    "/studio/api/templates/landing/publish": Role.PUBLISHER,
    "/studio/api/templates/landing/rollback": Role.PUBLISHER,
}


def _call(studio: TestClient, method: str, url: str, body: object, headers: dict[str, str]) -> object:
    return (
        studio.request(method, url, headers=headers, json=body)
        if body is not None
        else studio.request(method, url, headers=headers)
    )


@pytest.mark.parametrize(("method", "url", "body"), ROUTES)
def test_pop_up_staff_may_not_touch_templates_and_each_write_needs_its_role(
    studio: TestClient, method: str, url: str, body: object
) -> None:
    staff = _call(studio, method, url, body, as_role(Role.STAFF))
    assert staff.status_code == 403 and staff.json()["error"]["code"] == "missing_role"  # type: ignore[attr-defined]
    needed = WRITES_BY_ROLE.get(url.split("?")[0], WRITES_BY_ROLE.get(method))
    if needed is None:
        return
    other = Role.PUBLISHER if needed is Role.EDITOR else Role.EDITOR
    refused = _call(studio, method, url, body, as_role(other))
    assert refused.status_code == 403 and "needs the " + needed.value in refused.json()["error"]["message"]  # type: ignore[attr-defined]


def test_a_sessions_writes_need_its_csrf_token_in_a_header(studio: TestClient) -> None:
    cookie = as_role(Role.EDITOR, who="ed@brand.example")
    token = csrf_of(studio.get("/studio/", headers=cookie).text)  # what the studio's pages carry
    body = {"source": with_mark()}
    refused = studio.put("/studio/api/templates/landing", headers=cookie, json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert wiring.templates().versions("landing") == []  # nothing saved
    taken = studio.put("/studio/api/templates/landing", headers={**cookie, "X-CSRF-Token": token}, json=body)
    assert taken.status_code == 201 and taken.json() == {"name": "landing", "version": 1}, taken.text


def test_the_round_trip_a_repository_makes(studio: TestClient, client: Client) -> None:
    listed = studio.get("/studio/api/templates", headers=AUTH).json()
    assert [t["name"] for t in listed] == ["landing", "tryon", "pickup"]
    assert listed[0] == {"name": "landing", "published_version": 0, "latest_version": 0, "scheduled": None}
    shipped = studio.get("/studio/api/templates/landing", headers=AUTH).json()
    assert shipped["version"] == 0 and shipped["state"] == "published" and "<h1>" in shipped["source"]

    saved = studio.put("/studio/api/templates/landing", headers=AUTH, json={"source": with_mark(), "note": "weekend"})
    assert saved.status_code == 201 and saved.json()["version"] == 1
    again = studio.put(
        "/studio/api/templates/landing", headers=AUTH, json={"source": with_mark().replace("\n", "\r\n")}
    )
    assert again.status_code == 200 and again.json()["version"] == 1  # the same text: no new version
    draft = studio.get("/studio/api/templates/landing", headers=AUTH).json()
    assert draft["version"] == 1 and draft["state"] == "draft" and MARK in draft["source"]

    preview = studio.post("/studio/api/templates/landing/preview", headers=AUTH, json={"locale": "fr"})
    assert preview.status_code == 200 and MARK in preview.text and '<html lang="fr"' in preview.text
    assert "script-src 'none'" in preview.headers["content-security-policy"]
    unsaved = studio.post(
        "/studio/api/templates/landing/preview", headers=AUTH, json={"source": with_mark().replace("weekend", "sun")}
    )
    assert unsaved.status_code == 200 and "Made for the sun" in unsaved.text
    assert html_of(client.http.get("/drops/linen-lab")).count(MARK) == 0  # not live yet

    published = studio.post("/studio/api/templates/landing/publish", headers=AUTH, json={})
    assert published.status_code == 200 and published.json()["published_version"] == 1
    assert MARK in html_of(client.http.get("/drops/linen-lab"))
    versions = studio.get("/studio/api/templates/landing/versions", headers=AUTH).json()
    assert [(v["version"], v["author"], v["note"], v["live"]) for v in versions] == [(1, "dev", "weekend", True)]
    assert versions[0]["published_at"] is not None and versions[0]["created_at"].endswith("Z")

    rolled = studio.post("/studio/api/templates/landing/rollback", headers=AUTH)
    assert rolled.status_code == 200 and rolled.json()["published_version"] == 0
    assert MARK not in html_of(client.http.get("/drops/linen-lab"))
    diff = studio.get("/studio/api/templates/landing/diff?from=0&to=1", headers=AUTH).json()
    assert "+" + MARK in diff["unified"]
    assert next(r for r in diff["rows"] if r["kind"] == "added")["new_text"] == MARK


def test_problems_are_named_by_line_and_column_and_nothing_is_saved(studio: TestClient) -> None:
    broken = studio.put("/studio/api/templates/landing", headers=AUTH, json={"source": "<p>\n{{ nope }}</p>"})
    assert broken.status_code == 422
    error = broken.json()["error"]
    assert error["code"] == "template_invalid" and error["details"][0]["line"] == 2
    assert {"line", "column", "problem"} <= error["details"][0].keys()
    assert wiring.templates().versions("landing") == []
    preview = studio.post("/studio/api/templates/landing/preview", headers=AUTH, json={"source": "{% for %}"})
    assert preview.status_code == 422 and preview.json()["error"]["code"] == "template_invalid"


def test_bad_requests_get_the_envelope_and_the_right_status(studio: TestClient) -> None:
    cases = [
        ("PUT", "/studio/api/templates/landing", b"not json", 400, "invalid_json"),
        ("PUT", "/studio/api/templates/landing", b'{"source": 3}', 422, "invalid_body"),
        ("PUT", "/studio/api/templates/nope", b'{"source": ""}', 404, "template_not_found"),
        ("POST", "/studio/api/templates/landing/publish", b"{}", 422, "version_required"),
        ("POST", "/studio/api/templates/landing/publish", b'{"version": 9}', 404, "version_not_found"),
        ("POST", "/studio/api/templates/landing/rollback", b"{}", 409, "nothing_to_roll_back"),
        ("POST", "/studio/api/templates/landing/preview", b'{"locale": "xx"}', 422, "invalid_body"),
        ("POST", "/studio/api/templates/landing/preview", b'{"version": 7}', 422, "render_failed"),
        ("GET", "/studio/api/templates/landing/diff?from=0", b"", 400, "invalid_query"),
        ("GET", "/studio/api/templates/landing/diff?from=0&to=4", b"", 404, "version_not_found"),
    ]
    for method, url, body, status, code in cases:
        response = studio.request(method, url, headers={**AUTH, "Content-Type": "application/json"}, content=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (url, body)


def test_a_scheduled_publish_and_a_rollback_to_an_earlier_published_version(studio: TestClient) -> None:
    for week in ("one", "two", "three"):
        studio.put("/studio/api/templates/landing", headers=AUTH, json={"source": with_mark().replace("weekend", week)})
    for version in (1, 2):
        studio.post("/studio/api/templates/landing/publish", headers=AUTH, json={"version": version})
    at = wiring.utcnow() + timedelta(days=1)
    scheduled = studio.post("/studio/api/templates/landing/publish", headers=AUTH, json={"version": 3, "at": iso(at)})
    assert scheduled.json()["published_version"] == 2
    assert scheduled.json()["scheduled"] == {"version": 3, "at": iso(at)}

    never = studio.post("/studio/api/templates/landing/rollback", headers=AUTH, json={"version": 3})
    assert never.status_code == 409 and never.json()["error"]["code"] == "not_published_before"
    back = studio.post("/studio/api/templates/landing/rollback", headers=AUTH, json={"version": 1})
    assert back.status_code == 200 and back.json()["published_version"] == 1
    to_shipped = studio.post("/studio/api/templates/landing/rollback", headers=AUTH, json={"version": 0})
    assert to_shipped.json()["published_version"] == 0
