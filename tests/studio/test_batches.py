"""Production batches: recorded from the drop's page (a piece, units per size, where, the day it is
due), shown to shoppers for sold-out sizes, and received once, which adds the units to the stock
there in the same transaction as the audit entry and the batch's receipt."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from chalice.test import Client
from httpx2 import Response
from starlette.testclient import TestClient

from app import sweep
from chalicelib import wiring
from chalicelib.core.models import local_day
from chalicelib.studio.auth import Role
from devtools.seed import DEMO_BATCH
from tests.conftest import html_of
from tests.shop.test_notify import ask, messages, text_of
from tests.studio.conftest import AUTH, HTML, as_role, csrf_of, log_in
from tests.studio.test_restock import on_hand


def next_week() -> str:
    return (local_day("Europe/Paris", wiring.utcnow()) + timedelta(days=7)).isoformat()


def plan(studio: TestClient, session: dict[str, str], **fields: str) -> Response:
    csrf = csrf_of(studio.get("/studio/drops/linen-lab", headers=session).text)
    form = {"csrf": csrf, "sku": "TRS-STONE", "location": "paris-marais", "ready_on": next_week(), **fields}
    return studio.post("/studio/drops/linen-lab/batches", headers={**session, **HTML}, data=form)


def fresh_landing(client: Client, lang: str) -> str:
    wiring.catalog.cache_clear()  # the shop's catalog is cached for seconds; a test reads it afresh
    return html_of(client.http.get(f"/drops/linen-lab?lang={lang}"))


def test_a_batch_is_recorded_shown_to_shoppers_and_received_once(studio: TestClient, client: Client) -> None:
    session = log_in(studio)
    assert ask(client, "linen-lab", email="cy@example.org", sku="TRS-STONE", size="XS", locale="en").status_code == 202
    now = wiring.utcnow()
    sweep(now)
    (confirmation,) = messages("cy@example.org")
    link = re.search(r"https://[^/\s]+(/notify/confirm\?\S+)", text_of(confirmation))
    assert link and client.http.get(link[1]).status_code == 200
    recorded = plan(studio, session, **{"units.XS": "4", "units.S": "2", "units.M": ""})
    assert recorded.status_code == 303 and recorded.headers["location"].endswith("?done=batch-planned")
    (entry, *_) = wiring.audit().log("linen-lab", 5)
    assert entry.action == "batch" and entry.summary.startswith("batch planned: TRS-STONE (XS × 4, S × 2) for ")
    assert "(Europe/Paris)" in entry.summary

    # XS is sold out at the pop-ups: its card says when the next batch is due, in the shopper's language.
    assert "Next batch ready" in fresh_landing(client, "en")
    french = fresh_landing(client, "fr")
    assert re.search(r'<p class="batch">Prochain lot prêt le [^<]+ : XS</p>', french), "XS only: S is in stock"

    page = studio.get("/studio/drops/linen-lab", headers=session).text
    row = next(tr for tr in page.split("<tr>") if "XS × 4, S × 2" in tr)  # ours, after the demo's batch
    received_form = re.search(r'action="(/studio/drops/linen-lab/batches/([0-9a-f]{12})/received)"', row)
    assert received_form
    before = on_hand("TRS-STONE", "XS"), on_hand("TRS-STONE", "S")
    received = studio.post(received_form[1], headers=session, data={"csrf": csrf_of(page)})
    assert received.status_code == 303 and received.headers["location"].endswith("?done=batch-received")
    assert (on_hand("TRS-STONE", "XS"), on_hand("TRS-STONE", "S")) == (before[0] + 4, before[1] + 2)
    (entry, *_) = wiring.audit().log("linen-lab", 5)
    assert [(c.field, c.before, c.after) for c in entry.changes] == [
        ("TRS-STONE XS at paris-marais: units on hand", str(before[0]), str(before[0] + 4)),
        ("TRS-STONE S at paris-marais: units on hand", str(before[1]), str(before[1] + 2)),
    ]
    again = studio.post(received_form[1], headers={**session, **AUTH}, data={"csrf": csrf_of(page)})
    assert again.status_code == 409 and on_hand("TRS-STONE", "XS") == before[0] + 4  # once
    sweep(now + timedelta(minutes=1))
    sweep(now + timedelta(minutes=2))
    (back,) = messages("cy@example.org")[1:]  # whoever waited for XS hears, once
    assert "back at the pop-ups" in text_of(back)
    assert not re.search(r'class="batch">[^<]*: XS</p>', fresh_landing(client, "en"))  # on sale now
    shown = studio.get("/studio/drops/linen-lab", headers=session).text
    row = next(tr for tr in shown.split("<tr>") if "XS × 4, S × 2" in tr)
    assert "Received: add to stock" not in row and "(Europe/Paris)" in row  # it says when it came instead


def test_every_problem_is_said_beside_its_field(studio: TestClient) -> None:
    session = log_in(studio)
    refused = plan(studio, session, ready_on="2020-01-01", **{"units.XXL": "3"})
    assert refused.status_code == 422
    text = refused.text
    assert "is in the past at paris-marais (Europe/Paris)" in text
    assert "TRS-STONE has no size XXL (it has XS, S, M, L, XL)" in text
    nothing = plan(studio, session, **{"units.XS": "0"})
    assert nothing.status_code == 422 and "give the units of at least one size" in nothing.text
    stored = wiring.catalog_store().drop_catalog("linen-lab")
    assert stored is not None and [b.id for b in stored.batches] == [DEMO_BATCH]  # only the demo's


def test_the_api_records_and_receives_and_only_editors_may(studio: TestClient) -> None:
    body = {"sku": "TEE-ECRU", "location": "paris-marais", "ready_on": next_week(), "units": {"M": 5}}
    staff = studio.post("/studio/api/drops/linen-lab/batches", headers=as_role(Role.STAFF), content=json.dumps(body))
    assert staff.status_code == 403
    made = studio.post("/studio/api/drops/linen-lab/batches", headers=AUTH, content=json.dumps(body))
    assert made.status_code == 200 and made.json()["kind"] == "batch"
    (batch,) = [
        b
        for b in studio.get("/studio/api/drops/linen-lab", headers=AUTH).json()["catalog"]["batches"]
        if b["sku"] == "TEE-ECRU"
    ]
    before = on_hand("TEE-ECRU", "M")
    done = studio.post(f"/studio/api/drops/linen-lab/batches/{batch['id']}/received", headers=AUTH)
    assert done.status_code == 200 and on_hand("TEE-ECRU", "M") == before + 5
    unknown = studio.post("/studio/api/drops/linen-lab/batches/0123456789ab/received", headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_batch"
