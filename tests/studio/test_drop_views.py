"""Creating and editing drops in the studio: copy per locale, dates, prices and costs, pop-up
windows and slots; every problem reported at once, nothing lost; stale edits refused; audited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.stock.ports import StockRef
from chalicelib.stock.shards import even_shares
from chalicelib.studio.auth import Role
from chalicelib.studio.drops import from_local, local_input, to_minor
from devtools.process import forget_process_state
from tests.studio.conftest import AUTH, HTML, as_role, csrf_of, form_of, log_in


def edit_form(studio: TestClient, session: dict[str, str], slug: str = "winter-knit") -> dict[str, str]:
    page = studio.get(f"/studio/drops/{slug}", headers=session)
    assert page.status_code == 200
    return form_of(page.text, None) | {"csrf": csrf_of(page.text)}


def test_an_edit_lands_in_every_field_and_is_audited(studio: TestClient) -> None:
    session = log_in(studio)
    form = edit_form(studio, session)
    form_before = dict(form)
    form |= {
        "name.fr": "Tricot d'hiver",
        "tagline.ja": "冬のニット",
        "price.CRW-HEATHER.EUR": "149.50",
        "price.CRW-HEATHER.JPY": "24000",
        "cost.CRW-HEATHER.EUR": "51",
        "starts_at": "2031-01-10T09:00",
        "ends_at": "2031-01-12T18:00",
        "capacity.paris-marais": "9",
        "slot_minutes.paris-marais": "20",
    }
    saved = studio.post("/studio/drops/winter-knit", headers=session, data=form)
    assert saved.status_code == 303, saved.text
    catalog = wiring.catalog_store().drop_catalog("winter-knit")
    assert catalog is not None
    drop = catalog.drop
    assert drop.name["fr"] == "Tricot d'hiver" and drop.tagline["ja"] == "冬のニット"
    assert drop.starts_at == datetime(2031, 1, 10, 14, 0, tzinfo=UTC)  # 09:00 in New York (UTC-5)
    assert drop.revision == 1
    knit = next(sku for sku in catalog.skus if sku.sku == "CRW-HEATHER")
    assert knit.list_prices["EUR"] == 14950 and knit.list_prices["JPY"] == 24000 and knit.costs["EUR"] == 5100
    paris = next(place for place in catalog.locations if place.id == "paris-marais")
    assert paris.pickup is not None and paris.pickup.capacity == 9 and paris.pickup.slot_minutes == 20
    (entry,) = wiring.audit().log("winter-knit")
    assert entry.who == "dev" and entry.action == "drop"
    changed = {change.field: (change.before, change.after) for change in entry.changes}
    assert set(changed) == {
        "Name (fr)",
        "Tagline (ja)",
        "Price of CRW-HEATHER (EUR)",
        "Price of CRW-HEATHER (JPY)",
        "Unit cost of CRW-HEATHER (EUR)",
        "Starts (America/New_York)",
        "Ends (America/New_York)",
        f"{paris.name['en']}: capacity per pickup slot",
        f"{paris.name['en']}: minutes per pickup slot",
    }
    assert changed["Price of CRW-HEATHER (EUR)"][1] == "149.50 EUR"
    assert changed["Starts (America/New_York)"][1] == "2031-01-10 09:00"
    assert changed["Name (fr)"] == (form_before["name.fr"], "Tricot d'hiver")
    assert entry.summary == "9 fields changed" and entry.changes[0].field == "Starts (America/New_York)"  # form order
    again = studio.post("/studio/drops/winter-knit", headers=session, data=edit_form(studio, session))
    assert again.status_code == 303
    assert wiring.audit().log("winter-knit")[0].summary == "saved unchanged"


def test_every_problem_is_reported_and_nothing_is_saved(studio: TestClient) -> None:
    session = log_in(studio)
    form = edit_form(studio, session) | {
        "name.en": "",
        "price.CRW-HEATHER.EUR": "12.345",
        "price.CRW-HEATHER.JPY": "12.5",
        "cost.CRW-HEATHER.USD": "-3",
        "ends_at": "2020-01-01T00:00",
        "capacity.paris-marais": "0",
    }
    refused = studio.post("/studio/drops/winter-knit", headers=session | HTML, data=form)
    assert refused.status_code == 422
    for field in ("name.en", "price.CRW-HEATHER.EUR", "price.CRW-HEATHER.JPY", "cost.CRW-HEATHER.USD", "ends_at"):
        assert f'data-field="{field}"' in refused.text, field
    assert 'data-field="capacity.paris-marais"' in refused.text  # named as the form names it, shown beside it
    assert 'id="problem-capacity.paris-marais"' in refused.text
    assert 'value="12.345"' in refused.text  # what was typed comes back, not lost
    # Each problem is said beside its field, and the summary names fields as the form does.
    price = 'name="price.CRW-HEATHER.EUR" value="12.345"'
    assert price in refused.text
    beside = refused.text[refused.text.index(price) :].split("</td>", 1)[0]
    assert (
        'aria-invalid="true"' in beside and '<span class="field-problem" id="problem-price.CRW-HEATHER.EUR">' in beside
    )
    assert "Price of CRW-HEATHER (EUR): needs a non-negative amount with at most 2 decimals" in refused.text
    stored = wiring.catalog_store().drop_catalog("winter-knit")
    assert stored is not None and stored.drop.revision == 0


def test_slots_that_end_before_they_start_are_said_beside_their_end_in_words(studio: TestClient) -> None:
    session = log_in(studio)
    form = edit_form(studio, session) | {"slots_open.paris-marais": "20:00", "slots_close.paris-marais": "09:00"}
    refused = studio.post("/studio/drops/winter-knit", headers=session | HTML, data=form)
    assert refused.status_code == 422
    beside = refused.text[refused.text.index('name="slots_close.paris-marais"') :].split("</label>", 1)[0]
    assert 'aria-invalid="true"' in beside, beside
    assert '<span class="field-problem" id="problem-slots_close.paris-marais">' in refused.text
    assert "slots must start before they end" in refused.text and "Value error" not in refused.text


def test_a_stale_edit_is_refused_with_409(studio: TestClient) -> None:
    session = log_in(studio)
    first, second = edit_form(studio, session), edit_form(studio, session)
    assert studio.post("/studio/drops/winter-knit", headers=session, data=first).status_code == 303
    stale = studio.post("/studio/drops/winter-knit", headers=session, data=second | {"name.en": "Mine"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    stored = wiring.catalog_store().drop_catalog("winter-knit")
    assert stored is not None and stored.drop.name["en"] != "Mine"


def test_a_new_drop_is_unpublished_until_the_marketer_publishes_it(studio: TestClient) -> None:
    session = log_in(studio)
    csrf = csrf_of(studio.get("/studio/", headers=session).text)
    created = studio.post(
        "/studio/drops",
        headers=session,
        data={"csrf": csrf, "slug": "spring-rain", "name": "Spring rain", "copy_from": "winter-knit"},
    )
    assert created.status_code == 303 and created.headers["location"] == "/studio/drops/spring-rain?done=drop-created"
    told = studio.get(created.headers["location"], headers=session).text  # the page says what happened
    assert '<p class="notice flash" role="status">Drop created, not published:' in told
    assert 'data-drop="spring-rain"' in studio.get("/studio/", headers=session).text
    shopper = wiring.catalog()
    with pytest.raises(Exception, match="spring-rain"):
        shopper.drop("spring-rain")
    again = studio.post(
        "/studio/drops",
        headers=session,
        data={"csrf": csrf, "slug": "spring-rain", "name": "Again", "copy_from": "winter-knit"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "drop_exists"
    bad = studio.post(
        "/studio/drops",
        headers=session,
        data={"csrf": csrf, "slug": "Bad Slug", "name": "", "copy_from": "winter-knit"},
    )
    assert bad.status_code == 422 and {d["field"] for d in bad.json()["error"]["details"]} == {"slug", "name"}


def test_roles_and_csrf_guard_drop_changes(studio: TestClient) -> None:
    staff = as_role(Role.STAFF)
    form = edit_form(studio, staff)
    assert studio.post("/studio/drops/winter-knit", headers=staff, data=form).status_code == 403
    editor = as_role(Role.EDITOR)
    form = edit_form(studio, editor)
    forged = studio.post("/studio/drops/winter-knit", headers=editor, data=form | {"csrf": "forged"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
    assert studio.post("/studio/drops/winter-knit", headers=editor, data=form).status_code == 303
    assert studio.get("/studio/drops/no-such-drop", headers=AUTH).status_code == 404
    page = studio.get("/studio/drops/no-such-drop", headers=editor | HTML)
    assert page.status_code == 404 and "no drop called" in page.text and "<h1>" in page.text


@given(st.integers(min_value=0, max_value=10**8), st.sampled_from(["EUR", "USD", "JPY", "AED"]))
def test_a_typed_amount_reads_back_to_the_same_minor_units(minor: int, currency: str) -> None:
    digits = 0 if currency == "JPY" else 2
    assert to_minor(str(Decimal(minor).scaleb(-digits)), currency) == minor


@pytest.mark.parametrize("typed", ["1.234", "-1", "abc", "1e3x", "NaN", "Infinity"])
def test_amounts_that_cannot_be_money_are_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        to_minor(typed, "EUR")


def test_local_times_round_trip_through_utc() -> None:
    moment = from_local("2030-03-31T02:30", "Europe/Paris")
    assert moment.tzinfo is not None and local_input(moment, "Europe/Paris") == "2030-03-31T03:30"  # DST gap


def test_a_pop_ups_try_on_rules_are_set_in_the_studio_and_enforced(studio: TestClient) -> None:
    from chalicelib.tryon.tags import Tag, scan_claim, tag_token
    from chalicelib.tryon.tryons import TryOnRequest, request_tryon
    from devtools.process import forget_process_state

    session = log_in(studio)
    refused = studio.post(
        "/studio/drops/linen-lab",
        headers=session | HTML,
        data=edit_form(studio, session, "linen-lab") | {"tryon.paris-marais.keep_for_buyers": "51"},
    )
    assert refused.status_code == 422 and 'data-field="tryon.paris-marais.keep_for_buyers"' in refused.text
    form = edit_form(studio, session, "linen-lab")
    assert form["tryon.paris-marais.keep_for_buyers"] == "1"  # the default, shown as it is
    form |= {"tryon.paris-marais.keep_for_buyers": "0", "tryon.paris-marais.hold_minutes": "3"}
    assert studio.post("/studio/drops/linen-lab", headers=session, data=form).status_code == 303
    forget_process_state()  # the shopper side reads the saved drop
    last = Tag("paris-marais", "OVR-SAND", "XS")  # one piece there: kept for buyers until now
    asked = TryOnRequest(qr_token=tag_token(last), scan=scan_claim(last, "visitor-1"), size="XS")
    now = datetime.now(UTC)
    tryon = request_tryon(wiring.tryons(), wiring.stock(), wiring.catalog(), "visitor-1", asked, now)
    held_for = datetime.fromisoformat(tryon["hold_expires_at"]) - now
    assert 150 < held_for.total_seconds() <= 181  # the studio's 3 minutes


def test_a_raised_price_is_kept_so_a_discount_strikes_the_lowest_of_the_last_30_days(
    studio: TestClient, client: object
) -> None:
    """Raise a price, then discount it: the struck "was" price is the old, lower one; a discount
    that only undoes the raise shows no struck price at all (Omnibus Directive, Art. 6a)."""
    session = log_in(studio)
    before = wiring.catalog_store().drop_catalog("linen-lab")
    assert before is not None
    sand = next(s for s in before.skus if s.sku == "OVR-SAND")
    form = form_of(studio.get("/studio/drops/linen-lab", headers=session).text, None)
    form |= {"csrf": csrf_of(studio.get("/studio/drops/linen-lab", headers=session).text)}
    old = sand.list_prices["EUR"]
    raised = old * 2
    saved = studio.post(
        "/studio/drops/linen-lab", headers=session, data=form | {"price.OVR-SAND.EUR": str(raised / 100)}
    )
    assert saved.status_code == 303, saved.text
    after = wiring.catalog_store().drop_catalog("linen-lab")
    assert after is not None
    history = next(s for s in after.skus if s.sku == "OVR-SAND").price_history
    assert list(history) == ["EUR"] and history["EUR"][0][1] == old  # the old price, and until when it applied
    forget_process_state()
    headers = {"CloudFront-Viewer-Country": "FR", "Accept-Language": "fr"}
    body = client.http.get("/api/drops/linen-lab?lang=fr", headers=headers).json_body  # type: ignore[attr-defined]
    offer = next(p["offer"] for p in body["products"] if p["sku"] == "OVR-SAND")
    assert offer["currency"] == "EUR" and offer["list_minor"] == raised and offer["reference_minor"] == old
    page = client.http.get("/drops/linen-lab?lang=fr", headers=headers).body.decode()  # type: ignore[attr-defined]
    price = page[page.index('data-sku="OVR-SAND"') :].split('<p class="price">', 1)[1].split("</p>", 1)[0]
    assert ("<s>" in price) == (offer["price_minor"] < old)  # the raised price is never the one struck


def test_moving_a_published_drop_moves_its_warm_up_window(studio: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import boto3

    from chalicelib.warming.aws import DIMENSION, NAMESPACE

    target = "function:dropfront-dev-ApiLaunch:live"
    boto3.client("application-autoscaling", region_name="eu-west-1").register_scalable_target(
        ServiceNamespace=NAMESPACE, ResourceId=target, ScalableDimension=DIMENSION, MinCapacity=0, MaxCapacity=50
    )
    boto3.client("scheduler", region_name="eu-west-1").create_schedule_group(Name="launches")
    route = {
        "target": target,
        "rest_api_id": "a1b2c3",
        "stage": "api",
        "everyday": "dropfront-dev-Api:live",
        "launch": "dropfront-dev-ApiLaunch:live",
        "schedule_group": "launches",
        "scheduler_role_arn": "arn:aws:iam::123456789012:role/launch-switch",
    }
    monkeypatch.setenv("DROPFRONT_LAUNCH_ROUTE", json.dumps(route))
    forget_process_state()
    session = log_in(studio)
    form = edit_form(studio, session) | {
        "starts_at": "2031-01-10T09:00",
        "ends_at": "2031-01-12T18:00",
        "published": "on",
    }
    assert studio.post("/studio/drops/winter-knit", headers=session, data=form).status_code == 303
    schedule = wiring.warm_schedule()
    assert schedule is not None
    (window,) = schedule.windows()
    assert (window.drop, window.starts, window.ends) == (
        "winter-knit",
        datetime(2031, 1, 10, 13, 50, tzinfo=UTC),  # 09:00 in New York, less ten minutes
        datetime(2031, 1, 10, 15, 0, tzinfo=UTC),
    )
    page = studio.get("/studio/drops/winter-knit", headers=session).text
    assert "instances of the shop are kept warm from 2031-01-10 08:50 (America/New_York)" in page
    unpublished = edit_form(studio, session)
    unpublished.pop("published", None)
    assert studio.post("/studio/drops/winter-knit", headers=session, data=unpublished).status_code == 303
    assert schedule.windows() == []
    assert "No warm-up is scheduled" in studio.get("/studio/drops/winter-knit", headers=session).text


def test_the_waiting_room_is_turned_on_per_drop_checked_and_audited(studio: TestClient) -> None:
    session = log_in(studio)
    form = edit_form(studio, session)
    assert "waiting_room" not in form and form["admit_per_minute"] == "300"  # off, showing what it would start from
    refused = studio.post(
        "/studio/drops/winter-knit",
        headers=session | HTML,
        data=form | {"waiting_room": "on", "admit_per_minute": "5", "room_minutes": "abc"},
    )
    assert refused.status_code == 422
    assert 'id="problem-admit_per_minute"' in refused.text and 'id="problem-room_minutes"' in refused.text
    assert "Waiting room: shoppers let in per minute: " in refused.text
    saved = studio.post(
        "/studio/drops/winter-knit",
        headers=session,
        data=form | {"waiting_room": "on", "admit_per_minute": "120", "room_minutes": "45"},
    )
    assert saved.status_code == 303, saved.text
    catalog = wiring.catalog_store().drop_catalog("winter-knit")
    assert catalog is not None and catalog.drop.waiting_room is not None
    assert (catalog.drop.waiting_room.admit_per_minute, catalog.drop.waiting_room.minutes) == (120, 45)
    (entry,) = wiring.audit().log("winter-knit")
    changed = {change.field: (change.before, change.after) for change in entry.changes}
    assert changed == {
        "Waiting room": ("no", "yes"),
        "Waiting room: shoppers let in per minute": ("300", "120"),
        "Waiting room: minutes it stays on after the start": ("60", "45"),
    }
    page = studio.get("/studio/drops/winter-knit", headers=session).text
    assert 'id="room-status"' in page and "let in 120 a minute" in page
    off = edit_form(studio, session)
    off.pop("waiting_room")
    assert studio.post("/studio/drops/winter-knit", headers=session, data=off).status_code == 303
    catalog = wiring.catalog_store().drop_catalog("winter-knit")
    assert catalog is not None and catalog.drop.waiting_room is None


def shard_units(ref: StockRef) -> dict[int, int]:
    return {shard: item["available"] for shard, item in wiring.stock().shard_items(ref).items()}


def test_the_studio_spreads_each_size_and_the_shop_shows_the_same_totals(studio: TestClient) -> None:
    before = wiring.catalog_store().available_stock("linen-lab", 0).available
    session = log_in(studio)
    form = edit_form(studio, session, "linen-lab")
    assert form["stock_shards"] == "1"
    page = studio.get("/studio/drops/linen-lab", headers=session).text
    assert "One record takes about 30 purchases a second" in page
    for bad in ("0", "65", "many"):
        refused = studio.post("/studio/drops/linen-lab", headers=session | HTML, data=form | {"stock_shards": bad})
        assert refused.status_code == 422 and 'id="problem-stock_shards"' in refused.text, bad
    saved = studio.post("/studio/drops/linen-lab", headers=session, data=form | {"stock_shards": "4"})
    assert saved.status_code == 303, saved.text
    assert wiring.catalog_store().available_stock("linen-lab", 0).available == before, "shoppers see the same totals"
    for key, total in before.items():
        units = shard_units(StockRef("linen-lab", 0, *key))
        assert [units.get(shard, 0) for shard in range(4)] == even_shares(total, 4), key
    (entry, *_) = wiring.audit().log("linen-lab")
    assert {c.field: (c.before, c.after) for c in entry.changes}["Stock records per size"] == ("1", "4")
    back = edit_form(studio, session, "linen-lab")
    assert studio.post("/studio/drops/linen-lab", headers=session, data=back | {"stock_shards": "1"}).status_code == 303
    assert {key: shard_units(StockRef("linen-lab", 0, *key)).get(0) for key in before} == before, "gathered back on one"
