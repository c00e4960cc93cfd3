"""Every studio route refuses a request without a session or bearer token, and a browser that is not
logged in is sent to the login page instead."""

from __future__ import annotations

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from chalicelib.studio.app import create_app
from tests.studio.conftest import HTML

PATH_VALUES = {
    "name": "landing",
    "slug": "linen-lab",
    "popup": "paris-marais",
    "sku": "OVR-SAND",
    "size": "M",
    "id": "0" * 17,
    "code": "ABCDEFGH",
    "chart": "qr-funnel",
    "kind": "csv",
    "batch": "0" * 12,
    "decision_id": "0" * 32 + "-0",
}
OPEN = {"/studio/login", "/studio/static/{name}"}
ROUTES = [
    (method, route.path)
    for route in create_app().routes
    if isinstance(route, Route) and route.path not in OPEN
    for method in sorted((route.methods or set()) - {"HEAD"})
]


def concrete(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_needs_a_studio_identity(studio: TestClient, method: str, path: str) -> None:
    response = studio.request(method, concrete(path), data={"csrf": "x"} if method == "POST" else None)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "not_logged_in"
    assert response.headers["www-authenticate"].startswith("Bearer")


STUDIO = {
    ("POST", "/studio/logout"),
    ("GET", "/studio/"),
    ("GET", "/studio/templates/{name}"),
    ("POST", "/studio/templates/{name}"),
    ("GET", "/studio/templates/{name}/diff"),
    ("GET", "/studio/templates/{name}/preview"),
    ("POST", "/studio/drops"),
    ("GET", "/studio/drops/{slug}"),
    ("POST", "/studio/drops/{slug}"),
    ("POST", "/studio/drops/{slug}/stock"),
    ("POST", "/studio/drops/{slug}/batches"),
    ("GET", "/studio/drops/{slug}/replay"),
    ("POST", "/studio/drops/{slug}/batches/{batch}/received"),
    ("GET", "/studio/drops/{slug}/import"),
    ("GET", "/studio/drops/{slug}/import/template.csv"),
    ("GET", "/studio/drops/{slug}/pricing"),
    ("POST", "/studio/drops/{slug}/pricing"),
    ("GET", "/studio/drops/{slug}/numbers"),
    ("GET", "/studio/drops/{slug}/numbers/{chart}.{kind}"),
    ("GET", "/studio/popups/{popup}"),
    ("POST", "/studio/popups/{popup}/tryons/{id}"),
    ("POST", "/studio/popups/{popup}/pickups/{code}"),
    ("POST", "/studio/popups/{popup}/tills"),
    ("GET", "/studio/api/templates"),
    ("GET", "/studio/api/templates/{name}"),
    ("PUT", "/studio/api/templates/{name}"),
    ("POST", "/studio/api/templates/{name}/preview"),
    ("POST", "/studio/api/templates/{name}/publish"),
    ("POST", "/studio/api/templates/{name}/rollback"),
    ("GET", "/studio/api/templates/{name}/versions"),
    ("GET", "/studio/api/templates/{name}/diff"),
    ("GET", "/studio/api/drops"),
    ("GET", "/studio/api/drops/{slug}"),
    ("PUT", "/studio/api/drops/{slug}"),
    ("POST", "/studio/api/drops/{slug}/stock"),
    ("POST", "/studio/api/drops/{slug}/batches"),
    ("GET", "/studio/api/drops/{slug}/decisions/{decision_id}"),
    ("POST", "/studio/api/drops/{slug}/batches/{batch}/received"),
    ("GET", "/studio/api/drops/{slug}/pricing"),
    ("POST", "/studio/api/drops/{slug}/pricing"),
    ("GET", "/studio/api/drops/{slug}/audit"),
    ("GET", "/studio/api/drops/{slug}/numbers"),
    ("POST", "/studio/api/drops/{slug}/imports"),
    ("GET", "/studio/api/drops/{slug}/imports/latest"),
    ("POST", "/studio/api/drops/{slug}/skus/{sku}/picture"),
    ("GET", "/studio/outbox"),
    ("GET", "/studio/api/outbox"),
    ("GET", "/studio/api/popups/{popup}"),
    ("POST", "/studio/api/popups/{popup}/tryons/{id}"),
    ("GET", "/studio/api/popups/{popup}/pickups/{code}"),
    ("POST", "/studio/api/popups/{popup}/pickups/{code}"),
    ("POST", "/studio/api/popups/{popup}/tills"),
    ("DELETE", "/studio/api/popups/{popup}/tills/{id}"),
    ("GET", "/studio/audit"),
    ("GET", "/studio/api/drops/{slug}/qr-tags"),
    ("GET", "/studio/api/drops/{slug}/qr-tags/{sku}/{size}.png"),
    ("GET", "/studio/drops/{slug}/qr-sheet.svg"),
    ("GET", "/studio/drops/{slug}/qr-sheets"),
    ("GET", "/studio/drops/{slug}/qr-sheets.pdf"),
}
"""Every route the studio serves behind sign-in: a new route joins this set (and so the tests above)
on purpose, and a route that disappears is noticed."""


def test_the_route_list_is_the_whole_studio() -> None:
    assert set(ROUTES) == STUDIO and len(ROUTES) == len(STUDIO)
    assert all("{" not in concrete(path) for _, path in ROUTES)


@pytest.mark.parametrize("path", [p for m, p in ROUTES if m == "GET" and not p.startswith("/studio/api/")])
def test_a_browser_without_a_session_goes_to_the_login_page(studio: TestClient, path: str) -> None:
    response = studio.get(concrete(path), headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/studio/login"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/studio/"), ("GET", "/studio/no-such-page"), ("DELETE", "/studio/login"), ("GET", "/studio/login")],
)
def test_redirects_404s_and_405s_carry_the_security_headers(studio: TestClient, method: str, path: str) -> None:
    response = studio.request(method, path, headers=HTML, follow_redirects=False)
    assert response.status_code in (200, 303, 404, 405)
    for header in ("strict-transport-security", "x-content-type-options", "content-security-policy"):
        assert header in response.headers, (response.status_code, header)
    assert "no-store" in response.headers["cache-control"]
