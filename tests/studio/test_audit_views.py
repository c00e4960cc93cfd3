"""The studio-wide audit log: each change with its fields before and after, filtered by drop, person
and kind, times in the zone the reader picks (named)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.studio.auth import Role
from tests.studio.conftest import as_role, form_of, log_in


def rows(page: str) -> list[str]:
    body = page.split('<table class="audit cards">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td .*?</tr>", body, re.S)


def edit_and_reprice(studio: TestClient) -> None:
    """A drop edit on winter-knit by the developer and a guardrail change on linen-lab by a publisher."""
    session = log_in(studio)
    page = studio.get("/studio/drops/winter-knit", headers=session).text
    form = form_of(page, None) | {"price.CRW-HEATHER.EUR": "149.50"}
    assert studio.post("/studio/drops/winter-knit", headers=session, data=form).status_code == 303
    publisher = as_role(Role.PUBLISHER, who="mika@brand.example")
    pricing = studio.get("/studio/drops/linen-lab/pricing", headers=publisher).text
    guardrail = form_of(pricing, "guardrail") | {"max_discount_pct": "12,5 %"}
    assert studio.post("/studio/drops/linen-lab/pricing", headers=publisher, data=guardrail).status_code == 303


def test_every_drop_by_default_each_change_with_its_fields(studio: TestClient) -> None:
    edit_and_reprice(studio)
    page = studio.get("/studio/audit", headers=log_in(studio))
    assert page.status_code == 200
    found = rows(page.text)
    assert len(found) == 3 and "linen-lab" in found[0] and "winter-knit" in found[1]  # newest first
    assert "mika@brand.example" in found[0] and ">Pricing</td>" in found[0] and "<ins>12.5 %</ins>" in found[0]
    assert "<b>Price of CRW-HEATHER (EUR)</b>" in found[1] and "<ins>149.50 EUR</ins>" in found[1]
    assert ">Production batch</td>" in found[2]  # the demo's seeded batch, first of all
    assert "<th>When (UTC)</th>" in page.text and "3 changes, newest first" in page.text


def test_filters_by_drop_person_and_kind(studio: TestClient) -> None:
    edit_and_reprice(studio)
    session = log_in(studio)
    by_drop = rows(studio.get("/studio/audit?drop=winter-knit", headers=session).text)
    assert len(by_drop) == 1 and "Drop edited" in by_drop[0]
    by_person = rows(studio.get("/studio/audit?who=mika@brand.example", headers=session).text)
    assert len(by_person) == 1 and "linen-lab" in by_person[0]
    by_kind = studio.get("/studio/audit?kind=drop", headers=session).text
    assert len(rows(by_kind)) == 1 and '<option value="drop" selected>Drop edited</option>' in by_kind
    nobody = studio.get("/studio/audit?who=nobody&kind=pricing", headers=session).text
    assert "No changes yet." in nobody and "0 changes matching" in nobody


def test_times_are_shown_in_the_zone_the_reader_picks(studio: TestClient) -> None:
    edit_and_reprice(studio)
    session = log_in(studio)
    (entry,) = wiring.audit().log("winter-knit")
    utc = studio.get("/studio/audit?drop=winter-knit", headers=session).text
    new_york = studio.get("/studio/audit?drop=winter-knit&zone=America/New_York", headers=session).text
    assert "<th>When (America/New_York)</th>" in new_york
    at = datetime.fromisoformat(entry.at)
    assert f">{at:%Y-%m-%d %H:%M}</td>" in rows(utc)[0]
    assert f">{at.astimezone(ZoneInfo('America/New_York')):%Y-%m-%d %H:%M}</td>" in rows(new_york)[0]
    # The drop's own page shows its log in its zone, and links here.
    drop_page = studio.get("/studio/drops/winter-knit", headers=session).text
    assert "<th>When (America/New_York)</th>" in drop_page
    assert 'href="/studio/audit?drop=winter-knit&amp;zone=America/New_York"' in drop_page


def test_an_unknown_zone_or_kind_is_a_clear_400(studio: TestClient) -> None:
    session = log_in(studio)
    for query in ("zone=Mars/Olympus", "kind=everything", "drop=Not%20A%20Slug"):
        refused = studio.get(f"/studio/audit?{query}", headers=session)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_query", query
