"""The studio's Starlette app over moto with the demo drops, and helpers to act as a given person."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from chalicelib.studio.app import create_app
from chalicelib.studio.auth import SESSION_COOKIE, Principal, Role, session_cookie
from devtools.process import forget_process_state
from devtools.seed import DemoDrop

TOKEN = "studio-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HTML = {"Accept": "text/html"}


@pytest.fixture
def studio(demo: list[DemoDrop], monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DROPFRONT_STUDIO_TOKEN", TOKEN)
    monkeypatch.setenv("DROPFRONT_PUBLIC_URL", "https://shop.example.com")
    monkeypatch.setenv("DROPFRONT_TEMPLATE_CACHE_SECONDS", "0")
    forget_process_state()
    with TestClient(create_app(), base_url="https://studio.example.com", follow_redirects=False) as client:
        yield client


def cookie_for(principal: Principal) -> dict[str, str]:
    return {"Cookie": session_cookie(principal).split(";")[0]}


def as_role(*roles: Role, who: str = "someone@brand.example") -> dict[str, str]:
    """A session cookie for a person with exactly ``roles``."""
    return cookie_for(Principal(who, frozenset(roles), f"session-{who}"))


def log_in(studio: TestClient) -> dict[str, str]:
    response = studio.post("/studio/login", data={"token": TOKEN})
    assert response.status_code == 303 and response.headers["location"] == "/studio/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"))
    return {"Cookie": cookie.split(";")[0]}


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found[1]


def form_of(page: str, form_id: str | None = None) -> dict[str, str]:
    """The named inputs of a form on the page, as a browser would submit them untouched."""
    if form_id is not None:
        start = page.index(f'id="{form_id}"')
        page = page[start : page.index("</form>", start)]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name[1]] = ("on" if 'type="checkbox"' in tag else "") if value is None else _unescape(value[1])
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = _unescape(text)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        # An option without a value attribute submits its text; one with value="" submits "".
        options = re.findall(r"<option( value=\"([^\"]*)\")?( selected)?>([^<]*)</option>", body)
        chosen = next((o for o in options if o[2]), options[0] if options else None)
        if chosen is not None:
            fields[name] = chosen[1] if chosen[0] else chosen[3]
    return fields


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)
