"""The pricing page: the guardrail, overrides that need a reason and an expiry, rules and experiments
as JSON; each change a new immutable version that shoppers' offers obey, audited; stale forms and
the wrong role refused."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.core.audit import FieldChange
from chalicelib.studio.auth import Role
from chalicelib.studio.pricing import from_percent, percent, percent_number
from chalicelib.tills.sales import issue_till_token
from devtools.process import forget_process_state
from tests.conftest import earlier_today
from tests.studio.conftest import HTML, as_role, form_of, log_in
from tests.tills.test_sales import post, sale

URL = "/studio/drops/linen-lab/pricing"


def pricing_form(studio: TestClient, session: dict[str, str], form_id: str, slug: str = "linen-lab") -> dict[str, str]:
    page = studio.get(f"/studio/drops/{slug}/pricing", headers=session)
    assert page.status_code == 200
    return form_of(page.text, form_id)


def later(hours: int) -> str:
    zone = wiring.catalog_store().drop_catalog("linen-lab").drop.default_market.timezone  # type: ignore[union-attr]
    from zoneinfo import ZoneInfo

    return (wiring.utcnow() + timedelta(hours=hours)).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def test_a_guardrail_change_is_a_new_version_and_is_audited(studio: TestClient) -> None:
    session = log_in(studio)
    before = wiring.catalog_store().pricing_policy("linen-lab")
    assert before is not None
    form = pricing_form(studio, session, "guardrail") | {"max_discount_pct": "15"}
    assert studio.post(URL, headers=session, data=form).status_code == 303
    after = wiring.catalog_store().pricing_policy("linen-lab")
    assert after is not None and after.version == before.version + 1 and after.guardrail.max_discount_bps == 1500
    assert wiring.catalog_store().pricing_policy("linen-lab", before.version) == before  # the old one stays, for replay
    entry = wiring.audit().log("linen-lab")[0]
    assert entry.who == "dev" and entry.summary == f"v{after.version} guardrail: Deepest discount"
    assert entry.changes == (FieldChange("Deepest discount", percent(before.guardrail.max_discount_bps), "15 %"),)
    shown = studio.get(URL, headers=session).text  # the page says it in the merchant's units
    was = percent(before.guardrail.max_discount_bps)
    assert f"<b>Deepest discount</b>: <del>{was}</del> → <ins>15 %</ins>" in shown


def test_the_shopper_never_sees_a_discount_deeper_than_the_new_cap(studio: TestClient, client: object) -> None:
    session = log_in(studio)
    form = pricing_form(studio, session, "guardrail") | {"max_discount_pct": "1"}
    assert studio.post(URL, headers=session, data=form).status_code == 303
    forget_process_state()
    body = client.http.get("/api/drops/linen-lab").json_body  # type: ignore[attr-defined]
    assert all(p["offer"]["discount_bps"] <= 100 for p in body["products"])


def test_an_override_needs_a_reason_and_an_expiry(studio: TestClient) -> None:
    session = log_in(studio)
    form = pricing_form(studio, session, "override") | {"kind": "pin", "sku": "TEE-ECRU", "pin.EUR": "30"}
    refused = studio.post(URL, headers=session | HTML, data=form | {"reason": "", "expires_at": ""})
    assert refused.status_code == 422
    assert 'data-field="expires_at"' in refused.text and 'data-field="reason"' in refused.text
    past = studio.post(URL, headers=session | HTML, data=form | {"reason": "launch photo", "expires_at": later(-2)})
    assert past.status_code == 422 and "must be in the future" in past.text
    added = studio.post(
        URL, headers=session, data=form | {"reason": "price of the launch photo", "expires_at": later(48)}
    )
    assert added.status_code == 303
    policy = wiring.catalog_store().pricing_policy("linen-lab")
    assert policy is not None
    pin = policy.guardrail.overrides[-1]
    assert pin.pin_minor == {"EUR": 3000} and pin.author == "dev" and pin.reason == "price of the launch photo"
    assert "override added" in wiring.audit().log("linen-lab")[0].summary
    index = len(policy.guardrail.overrides) - 1
    removal = pricing_form(studio, session, "guardrail") | {"action": "unoverride", "index": str(index)}
    assert studio.post(URL, headers=session, data=removal).status_code == 303
    again = wiring.catalog_store().pricing_policy("linen-lab")
    assert again is not None and len(again.guardrail.overrides) == index


def test_a_pin_below_cost_needs_an_explicit_confirmation_and_is_marked_in_the_audit_log(
    studio: TestClient,
) -> None:
    session = log_in(studio)
    # TEE-ECRU costs 13.00 EUR: a pin at 12.00 is a loss on every piece.
    pin = {"kind": "pin", "sku": "TEE-ECRU", "pin.EUR": "12", "reason": "clear the last ones", "expires_at": later(24)}
    form = pricing_form(studio, session, "override") | pin
    logged = len(wiring.audit().log("linen-lab"))
    refused = studio.post(URL, headers=session | HTML, data=form)
    assert refused.status_code == 422 and 'data-field="pin.EUR"' in refused.text
    assert "is below what TEE-ECRU costs (13.00 EUR)" in refused.text and 'name="below_cost"' in refused.text
    kept = form_of(refused.text, "override")  # what was typed comes back: confirming is one tick
    assert {n: kept[n] for n in pin} == pin
    assert len(wiring.audit().log("linen-lab")) == logged  # nothing saved
    confirmed = studio.post(URL, headers=session, data=form | {"below_cost": "yes"})
    assert confirmed.status_code == 303
    entry = wiring.audit().log("linen-lab")[0]
    assert entry.summary.endswith("override added on TEE-ECRU BELOW COST (confirmed)")
    zone = wiring.catalog_store().drop_catalog("linen-lab").drop.default_market.timezone  # type: ignore[union-attr]
    until = f"{pin['expires_at'].replace('T', ' ')} ({zone})"
    shown = f"price 12.00 EUR until {until}: clear the last ones BELOW COST (confirmed)"
    assert entry.changes == (FieldChange("Override on TEE-ECRU", "", shown),)
    at_cost = pricing_form(studio, session, "override") | pin | {"pin.EUR": "13"}  # no loss: nothing to confirm
    assert studio.post(URL, headers=session, data=at_cost).status_code == 303
    assert "BELOW COST" not in wiring.audit().log("linen-lab")[0].summary


def test_rules_and_experiments_are_validated_with_their_path(studio: TestClient) -> None:
    session = log_in(studio)
    form = pricing_form(studio, session, "rules")
    rules = json.loads(form["rules"])
    rules["experiments"][0]["cells"][0]["weight"] = -1
    refused = studio.post(URL, headers=session | HTML, data=form | {"rules": json.dumps(rules)})
    assert refused.status_code == 422 and 'data-field="experiments.0.cells.0.weight"' in refused.text
    broken = studio.post(URL, headers=session | HTML, data=form | {"rules": "{"})
    assert broken.status_code == 422 and "not valid JSON" in broken.text
    rules["experiments"][0]["cells"][0]["weight"] = 10
    assert studio.post(URL, headers=session, data=form | {"rules": json.dumps(rules)}).status_code == 303
    policy = wiring.catalog_store().pricing_policy("linen-lab")
    assert policy is not None and policy.experiments[0].cells[0].weight == 10
    (change,) = wiring.audit().log("linen-lab")[0].changes  # only what changed, before and after, in words
    assert change.field == f"Experiment {policy.experiments[0].id}"
    assert "control weight 10, 0 % off everywhere, no urgency cue" in change.after and "weight 10," not in change.before


def test_a_drop_without_a_policy_starts_with_its_guardrail(studio: TestClient) -> None:
    session = log_in(studio)
    page = studio.get("/studio/drops/winter-knit/pricing", headers=session)
    assert "every offer is the list price" in page.text and 'id="override"' not in page.text
    form = pricing_form(studio, session, "guardrail", "winter-knit")
    assert studio.post("/studio/drops/winter-knit/pricing", headers=session, data=form).status_code == 303
    policy = wiring.catalog_store().pricing_policy("winter-knit")
    assert policy is not None and policy.version == 1 and policy.guardrail.max_discount_bps == 3000


def test_a_stale_form_and_the_wrong_role_are_refused(studio: TestClient) -> None:
    session = log_in(studio)
    first = pricing_form(studio, session, "guardrail")
    assert studio.post(URL, headers=session, data=first | {"max_discount_pct": "10"}).status_code == 303
    stale = studio.post(URL, headers=session, data=first | {"max_discount_pct": "90"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    editor = as_role(Role.EDITOR)
    form = pricing_form(studio, editor, "guardrail")
    refused = studio.post(URL, headers=editor, data=form)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "missing_role"
    bad = studio.post(URL, headers=session, data=pricing_form(studio, session, "guardrail") | {"min_margin_pct": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "min_margin_pct"


@given(st.integers(min_value=0, max_value=100_000))
def test_a_percent_field_shows_and_reads_back_every_basis_point(bps: int) -> None:
    assert from_percent(percent_number(bps)) == bps
    assert from_percent(percent_number(bps).replace(".", ",") + " %") == bps


@pytest.mark.parametrize("typed", ["", "ten", "12.345", "-5", "1e3", "5 %%"])
def test_what_is_not_a_percentage_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="needs a percentage"):
        from_percent(typed)


def test_the_guardrail_is_in_percent_and_its_problems_sit_beside_their_fields(studio: TestClient) -> None:
    session = log_in(studio)
    page = studio.get(URL, headers=session).text
    policy = wiring.catalog_store().pricing_policy("linen-lab")
    assert policy is not None
    shown = form_of(page, "guardrail")
    assert shown["max_discount_pct"] == percent_number(policy.guardrail.max_discount_bps)
    assert "basis points" not in page and "the best offer only" in page
    form = shown | {"max_discount_pct": "150", "min_margin_pct": "12.345"}
    refused = studio.post(URL, headers=session | HTML, data=form)
    assert refused.status_code == 422
    assert '<span class="field-problem" id="problem-min_margin_pct">needs a percentage such as 30 or 12.5</span>' in (
        refused.text
    )
    assert 'name="min_margin_pct" value="12.345" size="6" required aria-invalid="true"' in refused.text  # kept
    assert "Margin floor: needs a percentage" in refused.text  # the summary says the label, not the field
    over = studio.post(URL, headers=session | HTML, data=shown | {"max_discount_pct": "150"})
    assert over.status_code == 422 and 'id="problem-max_discount_pct"' in over.text
    assert "less than or equal to 100 %" in over.text and "Deepest discount: " in over.text
    saved = studio.post(URL, headers=session, data=shown | {"max_discount_pct": "12,5"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=pricing-saved")
    after = studio.get(saved.headers["location"], headers=session).text
    assert "Pricing saved as a new version" in after and 'name="max_discount_pct" value="12.5"' in after


def test_overrides_are_listed_in_money_and_local_time(studio: TestClient) -> None:
    session = log_in(studio)
    pin = {"kind": "pin", "sku": "TEE-ECRU", "pin.EUR": "30", "reason": "launch photo", "expires_at": later(48)}
    assert studio.post(URL, headers=session, data=pricing_form(studio, session, "override") | pin).status_code == 303
    page = studio.get(URL, headers=session).text
    row = page[page.rindex("<tr data-override=") :]
    row = row[: row.index("</tr>")]
    assert '<td data-label="Pinned price">30.00 EUR</td>' in row and "{" not in row
    zone = wiring.catalog_store().drop_catalog("linen-lab").drop.default_market.timezone  # type: ignore[union-attr]
    assert f'<td data-label="Until ({zone})">{pin["expires_at"].replace("T", " ")}</td>' in row
    assert '<td data-label="Kind">price pinned</td>' in row


def test_offer_rules_and_experiments_are_a_form_and_the_json_stays_for_the_advanced(studio: TestClient) -> None:
    session = log_in(studio)
    page = studio.get(URL, headers=session).text
    assert "<summary>Advanced: the same as JSON</summary>" in page and 'id="rules"' in page
    form = form_of(page, "offers")
    before = wiring.catalog_store().pricing_policy("linen-lab")
    assert before is not None and form["rule.0.id"] == before.segment_rules[0].id
    assert form["rule.0.kind"] == before.segment_rules[0].segment.split(":")[0]
    edited = form | {
        "rule.0.discount_pct": "12.5",
        "rule.4.id": "silver",
        "rule.4.kind": "tier",
        "rule.4.who": "silver",
    }
    edited |= {"rule.4.discount_pct": "5", "experiment.0.cell.0.weight": "40"}
    assert form["experiment.1.cell.1.channel"] == "any"  # launch-depth's five-off, as the demo sets it
    edited["experiment.1.cell.1.channel"] = "popup"  # its discount at the pop-up only
    saved = studio.post(URL, headers=session, data=edited)
    assert saved.status_code == 303, saved.text
    after = wiring.catalog_store().pricing_policy("linen-lab")
    assert after is not None and after.version == before.version + 1
    assert after.segment_rules[0].discount_bps == 1250 and after.segment_rules[-1].segment == "tier:silver"
    assert after.experiments[0].cells[0].weight == 40 and after.guardrail == before.guardrail
    assert [c.channel for c in after.experiments[1].cells] == ["any", "popup"]
    assert form_of(studio.get(URL, headers=session).text, "offers")["experiment.1.cell.1.channel"] == "popup"
    changes = {c.field: c for c in wiring.audit().log("linen-lab")[0].changes}
    first = before.segment_rules[0]
    assert changes[f"Offer rule {first.id}"].after.endswith("12.5 % off")
    assert changes["Offer rule silver"] == FieldChange("Offer rule silver", "", "loyalty tier silver, 5 % off")
    assert set(changes) == {
        f"Offer rule {first.id}",
        "Offer rule silver",
        f"Experiment {before.experiments[0].id}",
        f"Experiment {before.experiments[1].id}",
    }
    assert (
        "five-off weight 50, 5 % off at the pop-up (QR try-on)"
        in changes[f"Experiment {before.experiments[1].id}"].after
    )
    wrong = form_of(studio.get(URL, headers=session).text, "offers") | {"rule.0.discount_pct": "lots"}
    refused = studio.post(URL, headers=session | HTML, data=wrong)
    assert refused.status_code == 422
    assert (
        '<span class="field-problem" id="problem-rule.0.discount_pct">needs a percentage such as 30 or 12.5</span>'
        in (refused.text)
    )
    assert "Offer rule 1: discount: needs a percentage" in refused.text
    assert 'name="rule.0.discount_pct" value="lots"' in refused.text  # what was typed stays
    assert wiring.catalog_store().pricing_policy("linen-lab") == after  # nothing saved


def test_the_markdowns_show_what_each_pop_up_reads_today(studio: TestClient, client: Client) -> None:
    """The signals a pop-up's stage reads, beside the stages: the door counter's and the till's day."""
    now = earlier_today(ZoneInfo("Europe/Paris"), 5)  # the pop-up's today
    till = issue_till_token(wiring.tills(), "paris-marais", now)
    counts = [{"at": now.isoformat(), "entered": 40}]
    assert post(client, "/api/pos/footfall", till, {"popup": "paris-marais", "counts": counts}).status_code == 200
    sold = [sale("sig-1", qty=2, at=now)]
    assert json.loads(post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": sold}).body)["applied"]
    forget_process_state()
    page = studio.get("/studio/drops/linen-lab/pricing", headers=log_in(studio)).text
    signals = page[page.index('id="popup-signals"') : page.index("</ul>", page.index('id="popup-signals"'))]
    assert "Today at Paris · Le Marais: 40 through the door, 2 sold at the till (5 % conversion)" in signals
    assert "Today at Brooklyn · Williamsburg: nobody counted through the door yet, 0 sold at the till" in signals
