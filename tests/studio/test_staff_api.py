"""The staff JSON API: the pop-up's board, the try-on queue, pickups found and marked, till tokens
issued and revoked; the staff role and a session's CSRF token required, as on the staff page."""

from __future__ import annotations

import json
from datetime import datetime

from chalice.test import Client
from starlette.testclient import TestClient

from chalicelib.studio.auth import Role
from tests.stock.test_pickup import book, order, slots, tomorrow
from tests.studio.conftest import as_role, csrf_of
from tests.tryon.test_tryons import ask, new_visitor

API = "/studio/api/popups/paris-marais"


def staff_headers(studio: TestClient) -> dict[str, str]:
    session = as_role(Role.STAFF)
    return {**session, "X-CSRF-Token": csrf_of(studio.get("/studio/popups/paris-marais", headers=session).text)}


def test_the_board_and_the_try_on_queue(studio: TestClient, client: Client) -> None:
    asked = json.loads(ask(client, new_visitor(client)).body)
    staff = staff_headers(studio)
    board = studio.get(API, headers=staff).json()
    assert board["zone"] == "Europe/Paris" and set(board) == {"zone", "tryons", "pickups", "tills"}
    (tryon,) = [t for t in board["tryons"] if t["tryon_id"] == asked["tryon_id"]]
    assert tryon["ticket"] == asked["ticket"] and tryon["state"] == "waiting"
    called = studio.post(f"{API}/tryons/{asked['tryon_id']}", headers=staff, json={"action": "call"})
    assert called.status_code == 200 and called.json()["state"] == "called"
    done = studio.post(f"{API}/tryons/{asked['tryon_id']}", headers=staff, json={"action": "complete"})
    assert done.status_code == 200 and done.json()["state"] == "completed"
    bad = studio.post(f"{API}/tryons/{asked['tryon_id']}", headers=staff, json={"action": "explode"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_body"
    unknown = studio.post(f"{API}/tryons/{'0' * 17}", headers=staff, json={"action": "call"})
    assert unknown.status_code == 404


def test_a_pickup_is_found_and_marked(studio: TestClient, client: Client, seeded_at: datetime) -> None:
    start = slots(client, tomorrow(seeded_at))[0]["start"]
    code = json.loads(book(client, order(start, ("TEE-ECRU", "M", 1))).body)["code"]
    staff = staff_headers(studio)
    assert code in {p["code"] for p in studio.get(API, headers=staff).json()["pickups"]}
    found = studio.get(f"{API}/pickups/{code[:4].lower()}-{code[4:]}", headers=staff)
    assert found.status_code == 200 and found.json()["code"] == code and found.json()["name"]
    assert studio.get(f"{API}/pickups/ZZZZZZZZ", headers=staff).status_code == 404
    early = studio.post(f"{API}/pickups/{code}", headers=staff, json={"state": "no_show"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    collected = studio.post(f"{API}/pickups/{code}", headers=staff, json={"state": "picked_up"})
    assert collected.status_code == 200 and collected.json()["state"] == "picked_up"


def test_till_tokens_are_issued_once_and_revoked(studio: TestClient) -> None:
    staff = staff_headers(studio)
    issued = studio.post(f"{API}/tills", headers=staff)
    assert issued.status_code == 201 and issued.json()["token"]
    (till,) = [t for t in studio.get(API, headers=staff).json()["tills"] if t["revoked_at"] is None][-1:]
    assert "token" not in till  # the token is shown once, on its own answer
    revoked = studio.delete(f"{API}/tills/{till['id']}", headers=staff)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert studio.delete(f"{API}/tills/nope", headers=staff).status_code == 404


def test_staff_only_and_csrf_for_a_session(studio: TestClient) -> None:
    editor = as_role(Role.EDITOR, Role.PUBLISHER)
    refused = studio.get(API, headers=editor)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "missing_role"
    no_csrf = studio.post(f"{API}/tills", headers=as_role(Role.STAFF))
    assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf_failed"
    assert studio.get("/studio/api/popups/nowhere", headers=as_role(Role.STAFF)).status_code == 404
