"""The reserve journey as plain forms (no script): a card's form holds a piece, the hold's page books
it, and the confirmation offers the calendar, the way there and a cancel that asks first."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from chalice.test import Client

from chalicelib import wiring
from chalicelib.stock.ports import StockRef
from tests.conftest import html_of

SITE = {"Host": "shop.example", "X-Forwarded-Proto": "https", "Origin": "https://shop.example"}
FORM = {**SITE, "Content-Type": "application/x-www-form-urlencoded"}


def landing(client: Client, cookie: str | None = None, **headers: str) -> tuple[str, str]:
    """The drop page and the visitor's cookie (the one it set, or the one sent)."""
    sent = {**SITE, **headers, **({"Cookie": cookie} if cookie else {})}
    response = client.http.get("/drops/linen-lab?lang=en", headers=sent)
    assert response.status_code == 200
    cookie = cookie or response.headers["Set-Cookie"].split(";")[0]
    return html_of(response), cookie


def form_token(page: str) -> str:
    match = re.search(r'name="ft" value="([^"]+)"', page)
    assert match, "the page has no form token"
    return match.group(1)


def post(client: Client, path: str, cookie: str, fields: dict[str, str], **headers: str) -> Any:
    return client.http.post(path, headers={**FORM, "Cookie": cookie, **headers}, body=urlencode(fields))


def reserve(client: Client, cookie: str, token: str, sku: str = "TEE-ECRU", size: str = "M", **more: str) -> Any:
    fields = {"ft": token, "sku": sku, "size": size, "popup": "paris-marais", "qty": "1", **more}
    return post(client, "/drops/linen-lab/reserve?lang=en", cookie, fields)


def stock_of(sku: str, size: str) -> dict[str, Any]:
    item = wiring.stock().item(StockRef("linen-lab", 0, sku, size, "paris-marais"))
    assert item is not None
    return item


def first_slot(page: str) -> str:
    match = re.search(r'<optgroup label="[^"]+">\s*<option value="([^"]+)"', page)
    assert match, "the hold page lists no slot"
    return match.group(1)


def held(client: Client) -> tuple[str, str, str, str]:
    """A visitor holding one TEE-ECRU M: (cookie, form token, hold page path, the page)."""
    page, cookie = landing(client)
    token = form_token(page)
    response = reserve(client, cookie, token)
    assert response.status_code == 303, response.body
    path = response.headers["Location"]
    hold_page = client.http.get(path, headers={**SITE, "Cookie": cookie})
    assert hold_page.status_code == 200
    return cookie, token, path, html_of(hold_page)


def test_each_card_offers_its_sizes_and_the_pop_ups_nearest_first(client: Client) -> None:
    brooklyn = {"CloudFront-Viewer-Latitude": "40.7081", "CloudFront-Viewer-Longitude": "-73.9571"}
    page, _ = landing(client, **brooklyn)
    card = page[page.index('data-sku="OVR-SAND"') :]
    card = card[: card.index("</form>")]
    assert 'action="/drops/linen-lab/reserve?lang=en"' in page
    assert re.findall(r'<option value="([a-z-]+)"', card) == ["brooklyn", "paris-marais"]
    assert re.search(r'value="XL" required>', card)  # one in Brooklyn
    assert 'value="XL" required disabled' not in card


def test_a_card_form_holds_the_piece_and_its_page_books_it(client: Client) -> None:
    before = stock_of("TEE-ECRU", "M")
    cookie, token, path, page = held(client)
    assert re.fullmatch(r"/drops/linen-lab/holds/h[0-9a-f]{17}\?lang=en", path)
    assert stock_of("TEE-ECRU", "M")["held"] == before["held"] + 1
    assert "Held for you" in page and "Paris Time" in page and "data-expires=" in page
    assert re.search(r'<optgroup label="\w+day, \w+ \d+, 20\d\d">', page)  # slots grouped by their date
    fields = {
        "ft": token,
        "slot": first_slot(page),
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "consent": "yes",
    }
    booked = post(client, path, cookie, fields)
    assert booked.status_code == 303, booked.body
    confirmation = booked.headers["Location"]
    assert confirmation.startswith("/pickups/")
    after = stock_of("TEE-ECRU", "M")
    assert (after["held"], after["sold"]) == (before["held"], before["sold"] + 1)
    code = urlsplit(confirmation).path.rsplit("/", 1)[1]
    booking = wiring.bookings().booking(code)
    assert booking is not None and booking.contact.marketing_consent is True
    # A second tap on the same form goes to the same booking, and takes nothing more.
    again = post(client, path, cookie, fields)
    assert again.status_code == 303 and urlsplit(again.headers["Location"]).path == urlsplit(confirmation).path
    assert stock_of("TEE-ECRU", "M")["sold"] == before["sold"] + 1


def test_a_field_to_fix_is_shown_beside_it_and_nothing_typed_is_lost(client: Client) -> None:
    cookie, token, path, page = held(client)
    slot = first_slot(page)
    response = post(client, path, cookie, {"ft": token, "slot": slot, "name": "Ada", "email": "ada-at-example"})
    assert response.status_code == 422
    page = html_of(response)
    assert 'id="email-error"' in page and "does not look like an email address" in page
    assert 'value="Ada"' in page and 'value="ada-at-example"' in page
    assert re.search(rf'<option value="{re.escape(slot)}" selected>', page)
    assert 'id="name-error"' not in page
    missing = post(client, path, cookie, {"ft": token, "slot": "", "name": "", "email": ""})
    assert missing.status_code == 422 and "Choose a pickup time." in html_of(missing)


def test_letting_go_from_the_page_puts_the_piece_back_and_says_so(client: Client) -> None:
    before = stock_of("TEE-ECRU", "M")
    cookie, token, path, _ = held(client)
    released = post(client, path.replace("?", "/release?"), cookie, {"ft": token})
    assert released.status_code == 303
    assert released.headers["Location"] == "/drops/linen-lab?lang=en&m=released"
    assert stock_of("TEE-ECRU", "M")["held"] == before["held"]
    page, _ = landing(client, cookie)
    client_page = client.http.get(released.headers["Location"], headers={**SITE, "Cookie": cookie})
    assert "back on sale" in html_of(client_page) and "back on sale" not in page


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Origin": "https://evil.example"}, "cross_site"),
        ({"Origin": "", "Sec-Fetch-Site": "cross-site"}, "cross_site"),
    ],
)
def test_a_form_from_another_site_is_refused(client: Client, headers: dict[str, str], code: str) -> None:
    page, cookie = landing(client)
    sent = {key: value for key, value in {**FORM, "Cookie": cookie, **headers}.items() if value}
    fields = {"ft": form_token(page), "sku": "TEE-ECRU", "size": "M", "popup": "paris-marais"}
    response = client.http.post("/drops/linen-lab/reserve", headers=sent, body=urlencode(fields))
    assert response.status_code == 403 and f"<code>{code}</code>" in html_of(response)


def test_a_form_token_works_only_for_its_own_visitor(client: Client) -> None:
    page, _ = landing(client)
    _, other = landing(client)
    response = reserve(client, other, form_token(page))
    assert response.status_code == 403 and "<code>form_expired</code>" in html_of(response)
    fields = {"ft": "", "sku": "TEE-ECRU", "size": "M", "popup": "paris-marais", "qty": "1"}
    unproven = {k: v for k, v in FORM.items() if k != "Origin"} | {"Cookie": other}
    assert client.http.post("/drops/linen-lab/reserve", headers=unproven, body=urlencode(fields)).status_code == 403


def test_a_form_without_a_token_counts_when_the_browser_says_it_came_from_our_page(client: Client) -> None:
    """A page CloudFront serves to a whole segment carries no visitor's token: its forms are checked
    by the browser's word (Origin, else Sec-Fetch-Site) and the visitor's cookie."""
    _, cookie = landing(client)
    assert reserve(client, cookie, "").status_code == 303  # Origin: ours
    fields = {"ft": "", "sku": "TEE-ECRU", "size": "M", "popup": "paris-marais", "qty": "1"}
    by_fetch_site = {k: v for k, v in FORM.items() if k != "Origin"} | {
        "Cookie": cookie,
        "Sec-Fetch-Site": "same-origin",
    }
    assert (
        client.http.post("/drops/linen-lab/reserve", headers=by_fetch_site, body=urlencode(fields)).status_code == 303
    )
    assert reserve(client, "", "").status_code == 403  # no cookie: nobody to hold for


def test_a_size_gone_meanwhile_says_so_and_offers_the_drop_again(client: Client) -> None:
    page, cookie = landing(client)
    assert reserve(client, cookie, form_token(page), "OVR-SAND", "XS").status_code == 303  # the last one
    page, other = landing(client)
    response = reserve(client, other, form_token(page), "OVR-SAND", "XS")
    assert response.status_code == 409
    body = html_of(response)
    assert "That size just went" in body and 'href="/drops/linen-lab?lang=en"' in body


def test_someone_elses_hold_page_is_not_found(client: Client) -> None:
    _, _, path, _ = held(client)
    _, stranger = landing(client)
    assert client.http.get(path, headers={**SITE, "Cookie": stranger}).status_code == 404


def test_a_hold_page_after_its_time_says_it_ran_out(client: Client, seeded_at: datetime) -> None:
    cookie, token, path, page = held(client)
    with time_machine.travel(seeded_at + timedelta(minutes=12)):
        response = client.http.get(path, headers={**SITE, "Cookie": cookie})
        assert response.status_code == 200 and "Your hold has run out" in html_of(response)
        # The last slot offered: 12 minutes on, the first may have closed (its lead time), and that
        # refusal would come before the hold's.
        last = re.findall(r'<option value="(20[^"]+)"', page)[-1]
        late = post(client, path, cookie, {"ft": token, "slot": last, "name": "Ada", "email": "a@b.co"})
        assert late.status_code == 409 and "Your hold has run out" in html_of(late)


def test_the_confirmation_offers_the_calendar_the_map_and_a_cancel_that_asks_first(client: Client) -> None:
    cookie, token, path, page = held(client)
    fields = {"ft": token, "slot": first_slot(page), "name": "Ada", "email": "ada@example.org"}
    location = post(client, path, cookie, fields).headers["Location"]
    confirmation = html_of(client.http.get(location, headers=SITE))
    assert "openstreetmap.org/?mlat=" in confirmation and "<details" in confirmation
    calendar = re.search(r'href="(/pickups/[^"]+calendar\.ics[^"]*)"', confirmation)
    assert calendar
    ics = client.http.get(calendar.group(1).replace("&amp;", "&"), headers=SITE)
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    text = ics.body.decode()
    code = urlsplit(location).path.rsplit("/", 1)[1]
    assert f"UID:{code}@dropfront" in text and "DTSTART:" in text and text.endswith("END:VCALENDAR\r\n")
    cancel = re.search(
        r'<form method="post" action="([^"]+)"><input type="hidden" name="t" value="([^"]+)"', confirmation
    )
    assert cancel
    cancelled = post(client, cancel.group(1), cookie, {"t": cancel.group(2)})
    assert cancelled.status_code == 303
    token_sent = parse_qs(urlsplit(cancelled.headers["Location"]).query)["t"][0]
    assert token_sent == cancel.group(2)
    after = html_of(client.http.get(cancelled.headers["Location"], headers=SITE))
    assert "This pickup was cancelled" in after and "See the drop again" in after


def test_another_piece_joins_the_held_ones_from_the_drop_page(client: Client) -> None:
    cookie, _, path, page = held(client)
    add = re.search(r'<a href="(/drops/linen-lab\?lang=en&amp;hold=h[0-9a-f]{17})">Add another piece</a>', page)
    assert add
    adding = html_of(client.http.get(add.group(1).replace("&amp;", "&"), headers={**SITE, "Cookie": cookie}))
    assert "Choose another piece to add" in adding and 'name="add_to"' in adding
    hold_id = path.split("/holds/")[1].split("?")[0]
    response = reserve(client, cookie, form_token(adding), "OVR-SAND", "S", add_to=hold_id)
    assert response.status_code == 303
    basket = html_of(client.http.get(response.headers["Location"], headers={**SITE, "Cookie": cookie}))
    assert "Boxy organic tee" in basket and "Linen overshirt" in basket


def test_a_hold_past_the_customers_limit_is_refused_on_its_page_and_let_go(client: Client) -> None:
    page, _ = landing(client)
    assert "At most 2 of each piece and size per customer." in page  # said before anyone tries
    before = stock_of("TEE-ECRU", "M")
    for _ in range(2):  # the demo allows two of each piece and size per customer
        cookie, token, path, page = held(client)
        fields = {"ft": token, "slot": first_slot(page), "name": "Ada", "email": "ada.limit@example.org"}
        assert post(client, path, cookie, fields).status_code == 303
    cookie, token, path, page = held(client)
    fields = {"ft": token, "slot": first_slot(page), "name": "Ada", "email": "ADA.LIMIT+3@example.org"}
    refused = post(client, path, cookie, fields)
    assert refused.status_code == 409
    assert "You have reserved your share" in html_of(refused) and "customer_limit" in html_of(refused)
    after = stock_of("TEE-ECRU", "M")  # the third hold went back on sale at once, not when it ran out
    assert (after["held"], after["sold"]) == (before["held"], before["sold"] + 2)


def test_a_hold_says_when_the_groups_discount_is_used_up_at_its_pop_up(client: Client) -> None:
    """The drop page cannot know the pop-up, so it offers a creator's discount while any pop-up has
    budget; a hold at a pop-up whose budget is used up is at that pop-up's price, and says why."""
    from urllib.parse import quote

    from chalicelib.shop.visitors import campaign_link
    from chalicelib.store.client import call
    from chalicelib.store.schema import spend_key
    from devtools.process import forget_process_state
    from tests.conftest import TABLE

    spent = {"creator-ana@EUR@at:paris-marais": {"N": "30000"}}  # Paris sells in euros
    call("put_item", TableName=TABLE, Item={**spend_key("linen-lab"), **spent})
    forget_process_state()
    note = "discount has used up its budget at this pop-up today"
    for link, expected in ((f"&c={quote(campaign_link(cohort='ana'))}", True), ("", False)):
        first = client.http.get(f"/drops/linen-lab?lang=en{link}", headers=SITE)
        cookie = first.headers["Set-Cookie"].split(";")[0]
        page = html_of(first)
        card = page[page.index('data-sku="CRW-OAT"') :]
        if expected:
            assert "Your price" in card[: card.index("</form>")]  # still offered: Brooklyn has budget
        response = reserve(client, cookie, form_token(page), sku="CRW-OAT")
        hold = html_of(client.http.get(response.headers["Location"], headers={**SITE, "Cookie": cookie}))
        assert (note in hold) is expected
