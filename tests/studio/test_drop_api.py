"""The studio's JSON API for drops: read a drop, its pricing, audit log and numbers; change the drop
and its pricing with the forms' own fields, checks, conflicts, roles and audit entries."""

from __future__ import annotations

from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.studio.auth import Role
from chalicelib.studio.numbers_views import CHARTS
from tests.studio.conftest import AUTH, as_role, csrf_of

DROP = "/studio/api/drops/linen-lab"


def test_drops_are_listed_and_read_in_the_forms_units(studio: TestClient) -> None:
    listed = studio.get("/studio/api/drops", headers=AUTH).json()
    assert {d["slug"] for d in listed} >= {"linen-lab", "winter-knit"}
    linen = next(d for d in listed if d["slug"] == "linen-lab")
    assert linen["name"]["en"] and linen["zone"] and linen["revision"] == 0
    drop = studio.get(DROP, headers=AUTH).json()
    catalog = wiring.catalog_store().drop_catalog("linen-lab")
    assert catalog is not None
    sku = catalog.skus[0]
    currency = next(iter(sku.list_prices))
    assert drop["fields"][f"price.{sku.sku}.{currency}"].replace(".", "").isdigit()  # "89.00", not 8900
    assert drop["catalog"]["drop"]["slug"] == "linen-lab" and "revision" not in drop["fields"]
    assert studio.get("/studio/api/drops/nope", headers=AUTH).status_code == 404


def test_a_drop_edit_through_the_api_is_the_forms_edit(studio: TestClient) -> None:
    edit = {"revision": 0, "fields": {"tagline.en": "Twelve pieces, no more"}}
    saved = studio.put(DROP, headers=AUTH, json=edit)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["revision"] == 1 and body["summary"] == "1 field changed" and body["who"] == "dev"
    assert body["changes"][0]["field"] == "Tagline (en)" and body["changes"][0]["after"] == "Twelve pieces, no more"
    stored = wiring.catalog_store().drop_catalog("linen-lab")
    assert stored is not None and stored.drop.tagline["en"] == "Twelve pieces, no more"
    stale = studio.put(DROP, headers=AUTH, json=edit)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    bad = studio.put(DROP, headers=AUTH, json={"revision": 1, "fields": {"ends_at": "2020-01-01T00:00"}})
    assert bad.status_code == 422 and "ends_at" in {p["field"] for p in bad.json()["error"]["details"]}
    audit = studio.get(f"{DROP}/audit?kind=drop", headers=AUTH).json()
    assert audit[0]["summary"] == "1 field changed" and audit[0]["changes"][0]["before"] != ""


def test_roles_and_csrf_guard_the_apis_writes(studio: TestClient) -> None:
    staff_session = as_role(Role.STAFF)
    staff_token = csrf_of(studio.get("/studio/", headers=staff_session).text)
    staff = studio.put(DROP, headers={**staff_session, "X-CSRF-Token": staff_token}, json={"revision": 0, "fields": {}})
    assert staff.status_code == 403 and staff.json()["error"]["code"] == "missing_role"
    editor = as_role(Role.EDITOR)
    no_csrf = studio.put(DROP, headers=editor, json={"revision": 0, "fields": {}})
    assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf_failed"
    token = csrf_of(studio.get("/studio/", headers=editor).text)
    pricing = {"version": 1, "action": "guardrail", "fields": {"max_discount_pct": "20"}}
    not_publisher = studio.post(f"{DROP}/pricing", headers={**editor, "X-CSRF-Token": token}, json=pricing)
    assert not_publisher.status_code == 403 and "publisher" in not_publisher.json()["error"]["message"]
    ok = studio.put(DROP, headers={**editor, "X-CSRF-Token": token}, json={"revision": 0, "fields": {}})
    assert ok.status_code == 200 and ok.json()["summary"] == "saved unchanged"


def test_pricing_is_read_and_changed_in_percent(studio: TestClient) -> None:
    read = studio.get(f"{DROP}/pricing", headers=AUTH).json()
    policy = wiring.catalog_store().pricing_policy("linen-lab")
    assert policy is not None and read["version"] == policy.version
    assert read["policy"]["guardrail"]["max_discount_bps"] == policy.guardrail.max_discount_bps
    assert read["guardrail"]["max_discount_pct"] == str(policy.guardrail.max_discount_bps // 100)
    assert read["offers"]["rule.0.id"] == policy.segment_rules[0].id
    change = {"version": policy.version, "action": "guardrail", "fields": {"max_discount_pct": "17,5"}}
    saved = studio.post(f"{DROP}/pricing", headers=AUTH, json=change)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == policy.version + 1
    assert saved.json()["changes"] == [
        {"field": "Deepest discount", "before": f"{read['guardrail']['max_discount_pct']} %", "after": "17.5 %"}
    ]
    after = wiring.catalog_store().pricing_policy("linen-lab")
    assert (
        after is not None and after.guardrail.max_discount_bps == 1750 and after.segment_rules == policy.segment_rules
    )
    again = studio.post(f"{DROP}/pricing", headers=AUTH, json=change)
    assert again.status_code == 409
    wrong = {"version": policy.version + 1, "action": "offers", "fields": {"rule.0.discount_pct": "much"}}
    refused = studio.post(f"{DROP}/pricing", headers=AUTH, json=wrong)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0] == {
        "field": "rule.0.discount_pct",
        "problem": "needs a percentage such as 30 or 12.5",
        "label": "Offer rule 1: discount",
    }
    unknown = studio.post(f"{DROP}/pricing", headers=AUTH, json={"version": 2, "action": "delete"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_body"


def test_the_numbers_are_each_table_as_json(studio: TestClient) -> None:
    tables = studio.get(f"{DROP}/numbers", headers=AUTH).json()
    assert set(tables) == set(CHARTS)
    for table in tables.values():
        assert table["title"] and table["columns"] and all(len(row) == len(table["columns"]) for row in table["rows"])


def test_an_import_runs_through_the_api_and_says_how_it_ended(studio: TestClient) -> None:
    from tests.studio.test_imports import DEMO_CSV, post_csv

    never = studio.get("/studio/api/drops/winter-knit/imports/latest", headers=AUTH)
    assert never.status_code == 404 and never.json()["error"]["code"] == "import_not_found"
    assert post_csv(studio, DEMO_CSV.read_text(encoding="utf-8")).status_code == 200
    latest = studio.get("/studio/api/drops/winter-knit/imports/latest", headers=AUTH).json()
    assert latest["state"] == "live" and latest["by"] == "dev" and latest["done"] == latest["total"] > 0
    assert latest["summary"] == "imported 3 SKUs, 14 stock lines, 111 units" and latest["ended_at"].endswith("Z")
