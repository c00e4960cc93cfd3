"""The pop-up staff page: the try-on queue, pickups and till tokens, for the staff role only."""

from __future__ import annotations

import json
import re
from datetime import datetime

from chalice.test import Client
from starlette.testclient import TestClient

from chalicelib.studio.auth import Role
from tests.stock.test_pickup import book, order, slots, tomorrow
from tests.studio.conftest import as_role, csrf_of
from tests.tryon.test_tryons import ask, new_visitor

PAGE = "/studio/popups/paris-marais"


def test_staff_call_and_finish_a_try_on(studio: TestClient, client: Client) -> None:
    asked = ask(client, new_visitor(client))
    tryon_id = json.loads(asked.body)["tryon_id"]
    staff = as_role(Role.STAFF)
    page = studio.get(PAGE, headers=staff)
    assert page.status_code == 200 and f'data-tryon="{tryon_id}"' in page.text
    csrf = csrf_of(page.text)
    url = f"{PAGE}/tryons/{tryon_id}"
    assert studio.post(url, headers=staff, data={"csrf": csrf, "action": "call"}).status_code == 303
    assert "<td>called</td>" in studio.get(PAGE, headers=staff).text
    assert studio.post(url, headers=staff, data={"csrf": csrf, "action": "complete"}).status_code == 303
    assert f'data-tryon="{tryon_id}"' not in studio.get(PAGE, headers=staff).text  # done: off the queue
    bad = studio.post(url, headers=staff, data={"csrf": csrf, "action": "explode"})
    assert bad.status_code == 422


def test_staff_mark_a_pickup_as_collected(studio: TestClient, client: Client, seeded_at: datetime) -> None:
    start = slots(client, tomorrow(seeded_at))[0]["start"]
    code = json.loads(book(client, order(start, ("TEE-ECRU", "M", 1))).body)["code"]
    staff = as_role(Role.STAFF)
    page = studio.get(PAGE, headers=staff)
    listed = re.search(rf'data-code="{code}">.*?</tr>', page.text, re.S)
    assert listed is not None and "<td>no</td>" in listed[0]  # the shopper did not ask for news by email
    csrf = csrf_of(page.text)
    early = studio.post(f"{PAGE}/pickups/{code}", headers=staff, data={"csrf": csrf, "state": "no_show"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    done = studio.post(f"{PAGE}/pickups/{code}", headers=staff, data={"csrf": csrf, "state": "picked_up"})
    assert done.status_code == 303
    row = re.search(rf'data-code="{code}">.*?</tr>', studio.get(PAGE, headers=staff).text, re.S)
    assert row is not None and "picked_up" in row[0] and "No-show" not in row[0]


def test_a_till_token_is_shown_once_works_and_can_be_revoked(studio: TestClient, client: Client) -> None:
    staff = as_role(Role.STAFF)
    csrf = csrf_of(studio.get(PAGE, headers=staff).text)
    issued = studio.post(f"{PAGE}/tills", headers=staff, data={"csrf": csrf, "action": "issue"})
    found = re.search(r'<code id="new-till">([^<]+)</code>', issued.text)
    assert issued.status_code == 200 and found is not None
    token = found[1]
    queue = client.http.get("/api/staff/tryons", headers={"Authorization": f"Bearer {token}"})
    assert queue.status_code == 200
    page = studio.get(PAGE, headers=staff).text
    assert token not in page  # shown once
    till_id = re.findall(r'data-till="([0-9a-f]+)"', page)[0]
    revoked = studio.post(f"{PAGE}/tills", headers=staff, data={"csrf": csrf, "action": "revoke", "id": till_id})
    assert revoked.status_code == 303
    assert client.http.get("/api/staff/tryons", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    other = studio.post(f"{PAGE}/tills", headers=staff, data={"csrf": csrf, "action": "revoke", "id": "0" * 32})
    assert other.status_code == 404


def test_only_staff_run_a_pop_up_and_forms_need_csrf(studio: TestClient) -> None:
    editor = as_role(Role.EDITOR, Role.PUBLISHER)
    refused = studio.get(PAGE, headers=editor)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "missing_role"
    staff = as_role(Role.STAFF)
    assert studio.get("/studio/popups/atlantis", headers=staff).status_code == 404
    forged = studio.post(f"{PAGE}/tills", headers=staff, data={"csrf": "forged", "action": "issue"})
    assert forged.status_code == 403
