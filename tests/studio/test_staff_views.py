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
    called = studio.get(PAGE, headers=staff).text
    ticket = json.loads(asked.body)["ticket"]
    assert 'data-state="called">called to try on</td>' in called
    assert f'data-tryon="{tryon_id}" data-ticket="{ticket}"><td data-label="No." class="ticket">{ticket}</td>' in called
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
    assert listed is not None and '"New drops by email">no</td>' in listed[0]  # the shopper did not ask for news
    csrf = csrf_of(page.text)
    early = studio.post(f"{PAGE}/pickups/{code}", headers=staff, data={"csrf": csrf, "state": "no_show"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    done = studio.post(f"{PAGE}/pickups/{code}", headers=staff, data={"csrf": csrf, "state": "picked_up"})
    assert done.status_code == 303
    row = re.search(rf'data-code="{code}">.*?</tr>', studio.get(PAGE, headers=staff).text, re.S)
    assert row is not None and ">picked up</td>" in row[0] and "No-show" not in row[0]


def test_a_pickup_is_found_by_its_code_typed_loosely(studio: TestClient, client: Client, seeded_at: datetime) -> None:
    start = slots(client, tomorrow(seeded_at))[0]["start"]
    code = json.loads(book(client, order(start, ("TEE-ECRU", "M", 1))).body)["code"]
    staff = as_role(Role.STAFF)
    typed = f"{code[:4].lower()} {code[4:]}"  # as read aloud at the counter
    found = studio.get(PAGE, params={"code": typed}, headers=staff).text
    section = found.split('<section id="found"', 1)[1].split("</section>", 1)[0]
    assert f"Booking {code}</h2>" in section and "<strong>Ada Lovelace</strong> · to collect" in section
    assert "1 × TEE-ECRU M" in section and f'action="{PAGE}/pickups/{code}"' in section
    unknown = studio.get(PAGE, params={"code": "ZZZZ9999"}, headers=staff).text
    assert '<p role="alert">No booking has the code ZZZZ9999.</p>' in unknown
    garbled = studio.get(PAGE, params={"code": "12"}, headers=staff).text
    assert "That is not a booking code" in garbled
    assert '<section id="found"' not in studio.get(PAGE, headers=staff).text


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
    assert page.count('<button type="submit">Revoke</button>') == 1  # the active token can be revoked
    revoked = studio.post(f"{PAGE}/tills", headers=staff, data={"csrf": csrf, "action": "revoke", "id": till_id})
    assert revoked.status_code == 303
    after = studio.get(revoked.headers["location"], headers=staff).text
    assert "Till token revoked" in after and '<button type="submit">Revoke</button>' not in after
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
