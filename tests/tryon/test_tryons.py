"""QR try-on through the HTTP contract: the tag's page, try-on holds, the staff queue and the funnel."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core.tokens import Purpose, sign, verify
from chalicelib.stock.ports import StockRef
from chalicelib.tills.sales import issue_till_token
from chalicelib.tryon.ports import FunnelStep
from chalicelib.tryon.tags import Tag, tag_token
from devtools.process import forget_process_state
from tests.conftest import html_of, json_of, scan_claim_of

PARIS = ZoneInfo("Europe/Paris")
SAND_M = Tag("paris-marais", "OVR-SAND", "M")
JSON = {"Content-Type": "application/json"}


def visit(client: Client, token: str, cookie: str | None = None, **headers: str) -> Any:
    sent = {"Cookie": cookie} if cookie else {}
    return client.http.get(f"/t/{token}", headers={**sent, **headers})


def new_visitor(client: Client) -> str:
    """A visitor's cookie, as the try-on page sets it."""
    response = visit(client, tag_token(SAND_M))
    assert response.status_code == 200
    cookie: str = response.headers["Set-Cookie"].split(";")[0]
    return cookie


def scanned(client: Client, tag: Tag, cookie: str | None) -> str:
    """The scan claim the tag's page gives this cookie's visitor (a new visitor's, without one)."""
    return scan_claim_of(visit(client, tag_token(tag), cookie))


def ask(
    client: Client,
    cookie: str | None,
    tag: Tag = SAND_M,
    size: str | None = None,
    scan: str | None = None,
    **extra: Any,
) -> Any:
    """Ask for a try-on as the tag's page does: with the scan claim it gave this visitor."""
    claim = scan if scan is not None else scanned(client, tag, cookie)
    body = {"qr_token": tag_token(tag), "scan": claim, "size": size or tag.size, **extra}
    headers = {**JSON, **({"Cookie": cookie} if cookie else {})}
    return client.http.post("/api/tryons", headers=headers, body=json.dumps(body))


def stock_of(sku: str, size: str, location: str = "paris-marais") -> dict[str, Any]:
    item = wiring.stock().item(StockRef("linen-lab", 0, sku, size, location))
    assert item is not None
    return item


def funnel(seeded_at: datetime, sku: str = "OVR-SAND", at: datetime | None = None) -> dict[str, int]:
    day = (at or seeded_at).astimezone(PARIS).date().isoformat()
    return wiring.tryons().funnel("linen-lab").get((sku, "paris-marais", day), {})


@pytest.fixture
def till(client: Client, seeded_at: datetime) -> str:
    return issue_till_token(wiring.tills(), "paris-marais", seeded_at)


def staff(client: Client, till: str, tryon_id: str, action: str) -> Any:
    headers = {**JSON, "Authorization": f"Bearer {till}"}
    return client.http.post(f"/api/staff/tryons/{tryon_id}", headers=headers, body=json.dumps({"action": action}))


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_the_garment_its_stock_here_and_online_and_the_pop_up_price(client: Client) -> None:
    response = visit(client, tag_token(SAND_M), **{"Accept-Language": "fr"})
    assert response.status_code == 200
    page = html_of(response)
    assert response.headers["Content-Language"] == "fr"
    assert "Surchemise en lin" in page and "Atelier Charlot" in page
    here = {size: stock_of("OVR-SAND", size)["available"] for size in ("XS", "S", "M", "L", "XL")}
    online = {size: stock_of("OVR-SAND", size, "web")["available"] for size in here}
    for size in here:
        assert f'data-size="{size}" data-available="{here[size]}" data-online="{online[size]}"' in page
    assert re.search(r'value="M" checked', page)  # the tag's size is chosen
    assert re.search(r'value="XL" disabled', page)  # none here
    # Priced in the pop-up's market; the pop-up's own discount is personal, and says so.
    assert re.search(r'data-price-minor="\d+"><span class="yours">Votre prix</span> [\d\s,.]+\s?€', page)
    assert "Votre prix est personnalisé" in page
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_fit_video_loads_only_when_played_and_has_captions_in_the_visitors_language(client: Client) -> None:
    page = html_of(visit(client, tag_token(SAND_M), **{"Accept-Language": "ar"}))
    video = re.search(r"<video [^>]*>", page)
    assert video is not None
    assert 'preload="none"' in video[0] and 'poster="/media/demo/fit-poster.webp"' in video[0]
    assert 'width="360" height="480"' in video[0]  # the box is sized before anything loads
    tracks = re.findall(r'<track kind="captions" src="([^"]+)" srclang="(\w+)"[^>]*?( default)?>', page)
    assert tracks[0] == ("/media/demo/fit.ar.vtt", "ar", " default")
    assert len(tracks) == 6 and all(not default for *_, default in tracks[1:])


def test_a_scan_sets_the_visitors_pop_up_and_is_counted(client: Client, seeded_at: datetime) -> None:
    response = visit(client, tag_token(SAND_M))
    cookie = response.headers["Set-Cookie"].split(";")[0].removeprefix("dfv=")
    assert verify(Purpose.VISITOR, cookie)["p"] == "paris-marais"
    visit(client, tag_token(SAND_M), f"dfv={cookie}")
    assert funnel(seeded_at)[FunnelStep.SCAN] == 2


def test_the_pop_up_segment_reaches_the_offers(client: Client) -> None:
    cookie = new_visitor(client)
    detail = json_of(client.http.get("/api/drops/linen-lab", headers={"Cookie": cookie}))
    plain = json_of(client.http.get("/api/drops/linen-lab"))
    assert "segment:popup-paris" in detail["products"][0]["offer"]["rules"]  # the demo's near:paris-marais rule
    assert "segment:popup-paris" not in plain["products"][0]["offer"]["rules"]


def tampered() -> str:
    """The tag's token with one character of its payload changed (not its signature's last
    character: base64 ignores that character's low bits, so some flips there change nothing)."""
    token = tag_token(SAND_M)
    flipped = "B" if token[3] != "B" else "C"
    return token[:3] + flipped + token[4:]


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(tampered, id="a-flipped-byte"),
        pytest.param(lambda: sign(Purpose.CANCEL, ["paris-marais", "OVR-SAND", "M"]), id="another-purpose"),
        pytest.param(lambda: sign(Purpose.QR, ["paris-marais"]), id="another-shape"),
        pytest.param(lambda: sign(Purpose.QR, ["paris-marais", "OVR-SAND", "M", "extra"]), id="too-many-fields"),
        pytest.param(lambda: sign(Purpose.QR, ["paris-marais", "NOT-A-SKU"]), id="unknown-sku"),
        pytest.param(lambda: sign(Purpose.QR, ["nowhere", "OVR-SAND"]), id="unknown-pop-up"),
        pytest.param(lambda: "x" * 300, id="oversized"),
        pytest.param(lambda: "%00%ff", id="garbage"),
    ],
)
def test_a_tag_that_is_not_ours_gets_a_friendly_404_page(client: Client, make_token: Callable[[], str]) -> None:
    response = visit(client, make_token(), **{"Accept-Language": "en"})
    assert response.status_code == 404
    page = html_of(response)
    assert "We do not know this tag" in page
    assert "<code>tag_not_found</code>" in page


def test_a_tag_older_than_its_lifetime_is_refused(client: Client, seeded_at: datetime) -> None:
    token = tag_token(SAND_M)
    with time_machine.travel(seeded_at + timedelta(days=181)):
        assert visit(client, token).status_code == 404


def test_after_the_pop_up_ends_the_page_says_so_and_links_to_the_drop_online(
    client: Client, seeded_at: datetime
) -> None:
    token = tag_token(SAND_M)
    with time_machine.travel(seeded_at + timedelta(hours=80)):
        forget_process_state()
        response = visit(client, token, **{"Accept-Language": "en"})
        assert response.status_code == 200
        page = html_of(response)
        assert "data-ended" in page and "This pop-up has closed" in page
        assert 'href="https://localhost/drops/linen-lab?lang=en"' in page
        assert 'id="tryon"' not in page
        refused = ask(client, new_visitor(client), scan="the page offers none now")
        assert refused.status_code == 409 and json_of(refused)["error"]["code"] == "popup_ended"


# --- try-on requests -----------------------------------------------------------------------------


def test_a_try_on_holds_one_unit_and_says_where_the_visitor_is_in_line(client: Client, seeded_at: datetime) -> None:
    before = stock_of("OVR-SAND", "M")
    first = ask(client, new_visitor(client))
    assert first.status_code == 201, first.body
    body = json_of(first)
    assert body["position"] == 1 and body["state"] == "waiting" and body["size"] == "M"
    expires = datetime.fromisoformat(body["hold_expires_at"])
    assert timedelta(minutes=4) < expires - seeded_at <= timedelta(minutes=6)  # 5 minutes, until staff call
    after = stock_of("OVR-SAND", "M")
    assert (after["available"], after["held"]) == (before["available"] - 1, before["held"] + 1)
    assert body["tryon_id"] in after["holds"]
    second = json_of(ask(client, new_visitor(client), Tag("paris-marais", "OVR-SAND", "S")))
    assert second["position"] == 2
    assert funnel(seeded_at)[FunnelStep.TRYON_REQUESTED] == 2
    assert (body["ticket"], second["ticket"]) == (1, 2)  # the numbers shoppers are told


def test_the_numbers_shoppers_were_told_stay_theirs_after_a_call(client: Client, till: str) -> None:
    """The place in line moves up as staff call people; the number each shopper was given does not."""
    first = json_of(ask(client, new_visitor(client)))
    second = json_of(ask(client, new_visitor(client), Tag("paris-marais", "OVR-SAND", "S")))
    assert (first["ticket"], second["ticket"], second["position"]) == (1, 2, 2)
    assert staff(client, till, first["tryon_id"], "call").status_code == 200
    queue = json_of(client.http.get("/api/staff/tryons", headers={"Authorization": f"Bearer {till}"}))
    waiting = {t["tryon_id"]: t for t in queue["tryons"]}
    assert waiting[second["tryon_id"]]["ticket"] == 2 and waiting[second["tryon_id"]]["position"] == 1
    assert waiting[first["tryon_id"]]["ticket"] == 1 and waiting[first["tryon_id"]]["state"] == "called"


def test_try_ons_leave_the_last_piece_of_a_size_to_buyers(client: Client) -> None:
    assert stock_of("OVR-SAND", "XS")["available"] == 1
    refused = ask(client, new_visitor(client), size="XS")
    assert refused.status_code == 409
    assert json_of(refused)["error"] == {
        "code": "kept_for_buyers",
        "message": "The last pieces in this size are kept for buyers: book a pickup to get one.",
        "details": {"kept": 1},
    }
    assert stock_of("OVR-SAND", "XS")["available"] == 1


def test_none_free_is_409_and_holds_nothing(client: Client, seeded_at: datetime) -> None:
    last = StockRef("linen-lab", 0, "OVR-SAND", "XS", "paris-marais")
    wiring.stock().place_hold(last, "a-booking", 1, seeded_at + timedelta(minutes=15), seeded_at)
    refused = ask(client, new_visitor(client), size="XS")
    assert refused.status_code == 409
    assert json_of(refused)["error"]["code"] == "out_of_stock"
    assert stock_of("OVR-SAND", "XS")["available"] == 0


def test_a_visitor_may_hold_only_three_try_ons_at_once(client: Client) -> None:
    cookie = new_visitor(client)
    for sku in ("OVR-SAND", "OVR-OLIVE", "TEE-ECRU"):
        assert ask(client, cookie, Tag("paris-marais", sku, "M")).status_code == 201
    refused = ask(client, cookie, Tag("paris-marais", "TEE-INK", "L"))
    assert refused.status_code == 409
    assert json_of(refused)["error"] == {
        "code": "tryon_limit",
        "message": "You can hold 3 try-ons at once. Finish or cancel one first.",
        "details": {"limit": 3},
    }
    assert ask(client, new_visitor(client), Tag("paris-marais", "TEE-INK", "L")).status_code == 201


def test_an_expired_hold_frees_its_unit_and_the_visitors_place(client: Client, seeded_at: datetime) -> None:
    cookie = new_visitor(client)
    held = json_of(ask(client, cookie))
    for sku in ("OVR-OLIVE", "TEE-ECRU"):
        ask(client, cookie, Tag("paris-marais", sku, "M"))
    assert json_of(ask(client, new_visitor(client)))["error"]["code"] == "kept_for_buyers"
    with time_machine.travel(seeded_at + timedelta(minutes=6)):
        again = ask(client, cookie)  # the unit and the place are both free again
        assert again.status_code == 201, again.body
        item = stock_of("OVR-SAND", "M")
        assert held["tryon_id"] not in item["holds"] and item["held"] == 1 and item["available"] == 1


def test_the_shopper_can_cancel_their_own_try_on_but_not_anothers(client: Client) -> None:
    cookie = new_visitor(client)
    tryon = json_of(ask(client, cookie))["tryon_id"]
    stranger = client.http.delete(f"/api/tryons/{tryon}", headers={"Cookie": new_visitor(client)})
    assert stranger.status_code == 404
    mine = client.http.delete(f"/api/tryons/{tryon}", headers={"Cookie": cookie})
    assert mine.status_code == 200 and json_of(mine)["state"] == "cancelled" and json_of(mine)["changed"]
    assert stock_of("OVR-SAND", "M")["held"] == 0
    again = client.http.delete(f"/api/tryons/{tryon}", headers={"Cookie": cookie})
    assert again.status_code == 200 and json_of(again)["changed"] is False
    assert stock_of("OVR-SAND", "M")["held"] == 0


# --- try-ons cannot lock buyers out --------------------------------------------------------------


def test_a_try_on_needs_this_visitors_recent_scan_of_that_tag(client: Client, seeded_at: datetime) -> None:
    cookie = new_visitor(client)
    olive = Tag("paris-marais", "OVR-OLIVE", "M")
    refusals = {
        "forged": ask(client, cookie, scan="not-a-claim"),
        "another visitor's": ask(client, cookie, scan=scanned(client, SAND_M, new_visitor(client))),
        "another tag's": ask(client, cookie, scan=scanned(client, olive, cookie)),
        "another purpose's": ask(client, cookie, scan=sign(Purpose.OFFER, ["v", "paris-marais", "OVR-SAND"])),
        "without a cookie": ask(client, None),  # the page set one; a script that drops it holds nothing
    }
    claim = scanned(client, SAND_M, cookie)
    with time_machine.travel(seeded_at + timedelta(minutes=21)):
        refusals["expired"] = ask(client, cookie, scan=claim)
    for why, refused in refusals.items():
        assert refused.status_code == 403, why
        assert json_of(refused)["error"]["code"] == "scan_required", why
    assert stock_of("OVR-SAND", "M")["held"] == 0
    assert ask(client, cookie, scan=claim).status_code == 201  # the same claim, within its 20 minutes


def test_many_cookies_hoarding_a_size_leave_the_kept_piece_bookable(client: Client, seeded_at: datetime) -> None:
    outcomes = [ask(client, new_visitor(client)) for _ in range(6)]
    codes = [json_of(o)["error"]["code"] if o.status_code != 201 else 201 for o in outcomes]
    assert codes == [201] + ["kept_for_buyers"] * 5
    order = pickup_after(client, seeded_at, ("OVR-SAND", "M"), "")
    del order["tryon_id"]
    headers = {**JSON, "Cookie": new_visitor(client), "Idempotency-Key": "a-buyer-after-hoarders"}
    booked = client.http.post("/api/pickups", headers=headers, body=json.dumps(order))
    assert booked.status_code == 201, booked.body
    assert stock_of("OVR-SAND", "M")["available"] == 0


def test_a_call_keeps_the_garment_for_the_fitting_once(client: Client, till: str, seeded_at: datetime) -> None:
    tryon_id = json_of(ask(client, new_visitor(client)))["tryon_id"]
    with time_machine.travel(seeded_at + timedelta(minutes=4)):
        called = json_of(staff(client, till, tryon_id, "call"))
        until = datetime.fromisoformat(called["hold_expires_at"])
        assert called["changed"] and timedelta(minutes=13) < until - seeded_at <= timedelta(minutes=15)
    tryon = wiring.tryons().tryon(tryon_id)
    assert tryon is not None and tryon.hold_expires_at == int(until.timestamp())
    assert stock_of("OVR-SAND", "M")["holds"][tryon_id]["exp"] == tryon.hold_expires_at
    assert wiring.tryons().visitor_places(tryon.visitor)[tryon.place].expires_at == tryon.hold_expires_at
    with time_machine.travel(seeded_at + timedelta(minutes=10)):
        repeat = json_of(staff(client, till, tryon_id, "call"))  # a second call extends nothing
        assert repeat["changed"] is False and repeat["hold_expires_at"] == called["hold_expires_at"]
    with time_machine.travel(until + timedelta(seconds=1)):
        listed = json_of(client.http.get("/api/staff/tryons", headers={"Authorization": f"Bearer {till}"}))
        assert [t["expired"] for t in listed["tryons"]] == [True]


@pytest.mark.parametrize(
    ("make_body", "status", "code"),
    [
        (lambda: "not json", 400, "invalid_json"),
        (lambda: "", 400, "missing_body"),
        (lambda: {"qr_token": "x", "scan": "x"}, 422, "invalid_body"),
        (lambda: {"qr_token": tag_token(SAND_M), "size": "M"}, 422, "invalid_body"),
        (lambda: {"qr_token": "x", "scan": "x", "size": "M"}, 422, "invalid_tag"),
        (lambda: {"qr_token": "x" * 300, "scan": "x", "size": "M"}, 422, "invalid_body"),
        (lambda: {"qr_token": tag_token(SAND_M), "scan": "x", "size": "XXXL"}, 422, "unknown_size"),
        (lambda: {"qr_token": tag_token(SAND_M), "scan": "x", "size": ["M"]}, 422, "invalid_body"),
        (
            lambda: {"qr_token": sign(Purpose.OFFER, ["paris-marais", "OVR-SAND"]), "scan": "x", "size": "M"},
            422,
            "invalid_tag",
        ),
        (lambda: {"qr_token": tag_token(SAND_M), "scan": "x", "size": "M#web"}, 422, "invalid_body"),
    ],
)
def test_bad_try_on_requests_get_a_clear_4xx(
    client: Client, make_body: Callable[[], Any], status: int, code: str
) -> None:
    body = make_body()
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.http.post("/api/tryons", headers=JSON, body=raw)
    assert response.status_code == status, response.body
    assert json_of(response)["error"]["code"] == code


def test_fields_a_client_adds_to_a_try_on_are_ignored_not_refused(client: Client) -> None:
    response = ask(client, new_visitor(client), price_minor=1, segment="tier:gold")
    assert response.status_code == 201  # extra="ignore": an older or richer client still works


# --- the staff queue -----------------------------------------------------------------------------


def test_staff_list_call_and_complete_and_completing_gives_the_unit_back(
    client: Client, till: str, seeded_at: datetime
) -> None:
    first = json_of(ask(client, new_visitor(client)))["tryon_id"]
    second = json_of(ask(client, new_visitor(client), size="S"))["tryon_id"]
    queue = json_of(client.http.get("/api/staff/tryons", headers={"Authorization": f"Bearer {till}"}))
    assert [(t["tryon_id"], t["position"], t["name"]) for t in queue["tryons"]] == [
        (first, 1, "Linen overshirt"),
        (second, 2, "Linen overshirt"),
    ]
    called = json_of(staff(client, till, first, "call"))
    assert called["state"] == "called" and called["changed"]
    assert stock_of("OVR-SAND", "M")["held"] == 1  # calling keeps the hold
    done = json_of(staff(client, till, first, "complete"))
    assert done["state"] == "completed" and done["changed"]
    assert stock_of("OVR-SAND", "M")["held"] == 0
    assert json_of(staff(client, till, first, "complete"))["changed"] is False
    queue = json_of(client.http.get("/api/staff/tryons", headers={"Authorization": f"Bearer {till}"}))
    assert [(t["tryon_id"], t["position"]) for t in queue["tryons"]] == [(second, 1)]
    assert funnel(seeded_at)[FunnelStep.TRYON_COMPLETED] == 1


def test_cancelling_twice_releases_once(client: Client, till: str) -> None:
    tryon = json_of(ask(client, new_visitor(client)))["tryon_id"]
    first, second = staff(client, till, tryon, "cancel"), staff(client, till, tryon, "cancel")
    assert (json_of(first)["changed"], json_of(second)["changed"]) == (True, False)
    item = stock_of("OVR-SAND", "M")
    assert (item["held"], item["available"]) == (0, 2)


def test_a_closed_try_on_cannot_be_called_and_an_expired_one_cannot_be_called(
    client: Client, till: str, seeded_at: datetime
) -> None:
    done = json_of(ask(client, new_visitor(client)))["tryon_id"]
    staff(client, till, done, "complete")
    refused = staff(client, till, done, "call")
    assert refused.status_code == 409 and json_of(refused)["error"]["code"] == "tryon_closed"
    late = json_of(ask(client, new_visitor(client), size="S"))["tryon_id"]
    with time_machine.travel(seeded_at + timedelta(minutes=20)):
        expired = staff(client, till, late, "call")
        assert expired.status_code == 409 and json_of(expired)["error"]["code"] == "tryon_expired"
        listed = json_of(client.http.get("/api/staff/tryons", headers={"Authorization": f"Bearer {till}"}))
        assert [t["expired"] for t in listed["tryons"]] == [True]
        assert json_of(staff(client, till, late, "cancel"))["changed"] is True


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "code"),
    [
        ("/api/staff/tryons/0123456789abcdef0", {"action": "call"}, {}, 401, "missing_token"),
        (
            "/api/staff/tryons/0123456789abcdef0",
            {"action": "call"},
            {"Authorization": "Bearer nope"},
            401,
            "invalid_token",
        ),
        ("/api/staff/tryons/0123456789abcdef0", {"action": "call"}, None, 404, "tryon_not_found"),
        ("/api/staff/tryons/not-an-id", {"action": "call"}, None, 404, "tryon_not_found"),
        ("/api/staff/tryons/0123456789abcdef0", {"action": "sell"}, None, 422, "invalid_body"),
        ("/api/staff/tryons/0123456789abcdef0", "{", None, 400, "invalid_json"),
    ],
)
def test_bad_staff_requests_get_a_clear_4xx(
    client: Client, till: str, path: str, body: Any, headers: dict[str, str] | None, status: int, code: str
) -> None:
    sent = {**JSON, **(headers if headers is not None else {"Authorization": f"Bearer {till}"})}
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.http.post(path, headers=sent, body=raw)
    assert response.status_code == status, response.body
    assert json_of(response)["error"]["code"] == code


def test_another_pop_ups_till_cannot_see_or_touch_this_queue(client: Client, seeded_at: datetime) -> None:
    tryon = json_of(ask(client, new_visitor(client)))["tryon_id"]
    brooklyn = issue_till_token(wiring.tills(), "brooklyn", seeded_at)
    listed = json_of(client.http.get("/api/staff/tryons", headers={"Authorization": f"Bearer {brooklyn}"}))
    assert listed["tryons"] == []
    assert staff(client, brooklyn, tryon, "complete").status_code == 404
    assert stock_of("OVR-SAND", "M")["held"] == 1


# --- the funnel ----------------------------------------------------------------------------------


def pickup_after(client: Client, seeded_at: datetime, line: tuple[str, str], tryon_id: str) -> dict[str, Any]:
    """A pickup order for tomorrow's first slot that names the try-on it followed."""
    day = (seeded_at + timedelta(days=1)).astimezone(PARIS).date()
    slot = json_of(client.http.get(f"/api/popups/paris-marais/slots?date={day}"))["slots"][0]
    return {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "slot_start": slot["start"],
        "items": [{"sku": line[0], "size": line[1], "qty": 1}],
        "contact": {"name": "Ada", "email": "ada@example.org"},
        "tryon_id": tryon_id,
    }


def test_a_till_sale_and_a_booking_after_try_ons_are_linked_once(
    client: Client, till: str, seeded_at: datetime
) -> None:
    cookie = new_visitor(client)
    tried = json_of(ask(client, cookie))["tryon_id"]
    staff(client, till, tried, "complete")
    sale = {"sale_id": "till-7", "sku": "OVR-SAND", "size": "M", "qty": 1, "price_minor": 11000}
    sale |= {"sold_at": seeded_at.isoformat(), "tryon_id": tried}
    headers = {**JSON, "Authorization": f"Bearer {till}"}
    batch = json.dumps({"popup": "paris-marais", "sales": [sale]})
    report = json_of(client.http.post("/api/pos/sales", headers=headers, body=batch))
    assert report["applied"] == ["till-7"] and report["linked"] == ["till-7"]
    again = json_of(client.http.post("/api/pos/sales", headers=headers, body=batch))
    assert again["duplicates"] == ["till-7"] and again["linked"] == []

    other = json_of(ask(client, cookie, size="S"))["tryon_id"]
    order = pickup_after(client, seeded_at, ("OVR-SAND", "S"), other)
    booking_headers = {**JSON, "Cookie": cookie, "Idempotency-Key": "after-a-try-on-1"}
    booked = client.http.post("/api/pickups", headers=booking_headers, body=json.dumps(order))
    assert booked.status_code == 201, booked.body
    assert wiring.tryons().tryon(other).booking == json_of(booked)["code"]  # type: ignore[union-attr]
    counts = funnel(seeded_at)
    assert counts[FunnelStep.SOLD_AFTER_TRYON] == 1 and counts[FunnelStep.BOOKED_AFTER_TRYON] == 1
    # The booking took the try-on's own unit, which completes the try-on in the same transaction.
    assert counts[FunnelStep.TRYON_REQUESTED] == 2 and counts[FunnelStep.TRYON_COMPLETED] == 2


def test_a_booking_cannot_claim_someone_elses_try_on(client: Client, seeded_at: datetime) -> None:
    theirs = json_of(ask(client, new_visitor(client), size="S"))["tryon_id"]
    order = pickup_after(client, seeded_at, ("TEE-ECRU", "S"), theirs)
    headers = {**JSON, "Cookie": new_visitor(client), "Idempotency-Key": "not-my-try-on-1"}
    assert client.http.post("/api/pickups", headers=headers, body=json.dumps(order)).status_code == 201
    assert wiring.tryons().tryon(theirs).booking is None  # type: ignore[union-attr]
    assert FunnelStep.BOOKED_AFTER_TRYON not in funnel(seeded_at)


def test_each_funnel_step_emits_its_metric(client: Client, till: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    tried = json_of(ask(client, new_visitor(client)))["tryon_id"]
    staff(client, till, tried, "complete")
    names = {
        metric["Name"]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
        for block in json.loads(line)["_aws"]["CloudWatchMetrics"]
        for metric in block["Metrics"]
    }
    assert {"QrScan", "TryOnRequested", "TryOnCompleted"} <= names
