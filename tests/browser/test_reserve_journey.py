"""The shopper's journey on a phone, in Chromium: from a drop page's card to a booked pickup, with and
without JavaScript, in English and Arabic, by touch and by keyboard; and the last unit tried on, then
booked, at a pop-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from chalicelib.shop.page import chip_units
from chalicelib.tryon.tags import Tag, tag_url
from devtools.process import forget_process_state
from devtools.run import LOCAL_SECRET
from tests.browser.phone import PHONE, size_chip

pytestmark = pytest.mark.browser


def phone(browser: Browser, *, javascript: bool = True) -> tuple[Page, list[str]]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, java_script_enabled=javascript
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page, errors


def fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def choose_a_slot(page: Page) -> None:
    """The last time offered: the first one closes at the next half hour (its lead time), which a run
    at that moment would cross between showing the page and sending the form."""
    last = page.locator("#slot option").last.get_attribute("value")
    page.locator("#slot").select_option(value=last)


def book_on_the_hold_page(page: Page) -> None:
    choose_a_slot(page)
    page.locator("#name").fill("Ada Lovelace")
    page.locator("#email").fill("ada@example.org")
    page.locator("#book-form button[type=submit]").click()
    page.wait_for_url("**/pickups/*")


@pytest.mark.parametrize(("locale", "sku"), [("en", "TEE-INK"), ("ar", "CRW-OAT")])
def test_choose_a_size_and_a_pop_up_reserve_and_book(
    browser: Browser, live_url: str, artifacts: Path, locale: str, sku: str
) -> None:
    page, errors = phone(browser)
    page.goto(f"{live_url}/drops/linen-lab?lang={locale}")
    photo = page.locator("img.photo").first  # the first card's picture, loaded eagerly
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=photo.element_handle())
    card = page.locator(f'li.card[data-sku="{sku}"]')
    card.scroll_into_view_if_needed()
    card.locator(size_chip("S")).click()
    select = card.locator("select[name=popup]")
    # The places follow the size: each says how many of that size it has, none-left ones disabled.
    option = select.locator("option").first
    units = chip_units(str(card.locator(size_chip("S")).get_attribute("data-at")))
    left = units[str(option.get_attribute("value"))]
    expect(option).to_contain_text(f"{option.get_attribute('data-name')} · ")
    if locale == "en":
        expect(option).to_have_text(f"{option.get_attribute('data-name')} · {left} left")
    card.screenshot(path=str(artifacts / f"journey-card-{locale}.png"))
    page.evaluate("window.sameDocument = true")  # gone if anything below reloads the page
    card.locator("form.reserve button.primary").click()
    # The hold opens inside the card, its countdown running, the address bar on the hold's own page.
    timer = card.locator(".panel #hold-timer [data-left]")
    expect(timer).not_to_have_text("")
    page.wait_for_function(
        "t => document.querySelector('#hold-timer [data-left]').textContent !== t", arg=timer.inner_text()
    )
    assert "/holds/" in page.url and card.locator("form.reserve").is_hidden()
    assert page.evaluate("document.activeElement.textContent") == card.locator(".panel h2").inner_text()
    assert card.locator("#slot optgroup").count() >= 1  # slots grouped by their local date
    assert fits(page)
    card.screenshot(path=str(artifacts / f"journey-hold-{locale}.png"))
    book_on_the_hold_page(page)
    ticket = card.locator(".panel section.ticket")
    expect(ticket).to_have_attribute("data-state", "booked")
    assert card.locator("a[download]").count() == 1 and fits(page)
    assert page.evaluate("window.sameDocument") is True, "the journey reloaded the page"
    card.screenshot(path=str(artifacts / f"journey-booked-{locale}.png"))
    page.reload()  # the address bar holds the confirmation: a reload (or a bookmark) shows it whole
    assert page.locator("section.ticket").get_attribute("data-state") == "booked"
    assert errors == []


def test_in_the_card_a_refusal_a_basket_and_letting_go(browser: Browser, live_url: str, artifacts: Path) -> None:
    page, errors = phone(browser)
    page.goto(f"{live_url}/drops/linen-lab?lang=en")
    page.evaluate("window.sameDocument = true")
    first = page.locator('li.card[data-sku="JKT-INDIGO"]')
    first.locator(size_chip("L")).click()
    first.locator("select[name=popup]").select_option("paris-marais")
    first.locator("form.reserve button").click()
    expect(first.locator(".panel #hold-timer")).to_be_visible()
    # "Add another piece": back to the cards, which now add to this hold, with a note saying so.
    first.locator(".panel a", has_text="Add another piece").click()
    expect(page.locator("#df-status")).to_contain_text("Choose another piece")
    assert first.locator(".panel").count() == 0 and first.locator("form.reserve").is_visible()
    second = page.locator('li.card[data-sku="TEE-ECRU"]')
    assert second.locator("input[name=add_to]").get_attribute("value")
    second.locator(size_chip("M")).click()
    second.locator("select[name=popup]").select_option("paris-marais")
    second.locator("form.reserve button").click()
    lines = second.locator(".panel ul.lines li:not(.total)")
    expect(lines).to_have_count(2)
    second.screenshot(path=str(artifacts / "journey-basket-en.png"))
    # Letting go: the card comes back with the server's note, and nothing is added to any more.
    second.locator(".panel form.release button").click()
    expect(page.locator("#df-status")).to_contain_text("back on sale")
    assert second.locator("form.reserve").is_visible() and page.locator("input[name=add_to]").count() == 0
    assert page.url.endswith("/drops/linen-lab?lang=en")
    # A refusal shows in the card too: a size with none left at the chosen pop-up.
    third = page.locator('li.card[data-sku="VST-MOSS"]')
    third.locator(size_chip("S")).click()
    third.evaluate(
        "c => { const s = c.querySelector('select[name=popup]'); s.options[0].disabled = false; "
        "s.options[0].value = 'nowhere'; s.value = 'nowhere'; }"
    )
    third.locator("form.reserve button").click()
    expect(third.locator(".panel h2")).not_to_have_text("")
    assert third.locator(".panel code").count() == 1
    third.locator(".panel a.primary").click()  # "Back to the drop" closes it, without a reload
    expect(third.locator("form.reserve")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True
    assert errors == ["Failed to load resource: the server responded with a status of 422 (Unprocessable Content)"]


def test_the_journey_works_without_javascript(browser: Browser, live_url: str, artifacts: Path) -> None:
    page, _ = phone(browser, javascript=False)
    page.goto(f"{live_url}/drops/linen-lab?lang=fr")
    card = page.locator('li.card[data-sku="JKT-INDIGO"]')
    card.locator(size_chip("M")).click()
    card.locator("select[name=popup]").select_option("paris-marais")
    card.locator("button.primary").click()
    page.wait_for_url("**/holds/*")
    page.locator("#name").fill("Ada")
    choose_a_slot(page)
    page.locator("#email").fill("not-an-email")
    page.locator("#book-form button[type=submit]").click()  # the browser's own check stops it
    assert "/holds/" in page.url and page.locator("#email:invalid").count() == 1
    page.locator("#email").fill("ada@example.org")
    page.locator("#book-form button[type=submit]").click()
    page.wait_for_url("**/pickups/*")
    assert page.locator("section.ticket").get_attribute("data-state") == "booked"
    page.screenshot(path=str(artifacts / "journey-nojs-booked-fr.png"), full_page=True)
    page.locator("details.confirm summary").click()
    page.locator("details.confirm button").click()
    page.wait_for_url("**/pickups/*")
    assert page.locator("section.ticket").get_attribute("data-state") == "cancelled"


def test_every_control_is_reachable_by_keyboard_with_a_visible_focus(browser: Browser, live_url: str) -> None:
    page, errors = phone(browser)
    page.goto(f"{live_url}/drops/linen-lab?lang=en")
    seen: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement;  // a size's radio is drawn by its label
            const s = getComputedStyle(e.type === "radio" ? e.closest("label") : e);
            return [e.tagName, e.type || "", s.outlineStyle, s.outlineWidth]; }"""
        )
        seen.append(focused[0])
        assert focused[2] != "none" and focused[3] != "0px", f"no visible focus on {focused}"
        if focused[1] == "radio" and seen.count("INPUT") == 1:
            page.keyboard.press("Space")  # the first size there is, chosen from the keyboard
        if focused[0] == "BUTTON":
            break
    assert {"A", "INPUT", "SELECT", "BUTTON"} <= set(seen)
    page.keyboard.press("Enter")
    page.wait_for_url("**/holds/*")
    expect(page.locator(".panel h2")).to_be_focused()  # the hold, read out where the shopper is
    page.reload()  # the hold's own page, as a reload or a shared link opens it, counts down by itself
    timer = page.locator("#hold-timer [data-left]")
    expect(timer).not_to_have_text("")
    page.wait_for_function(
        "t => document.querySelector('#hold-timer [data-left]').textContent !== t", arg=timer.inner_text()
    )
    assert errors == []


@pytest.fixture
def signed_like_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", LOCAL_SECRET)
    forget_process_state()


def test_the_last_piece_is_kept_for_buyers_and_can_be_booked_from_its_tag(
    browser: Browser, live_url: str, artifacts: Path, signed_like_the_app: None
) -> None:
    page, errors = phone(browser)
    page.goto(tag_url(live_url, Tag("paris-marais", "VST-MOSS", "S")) + "?lang=ar")  # the one VST-MOSS S there
    page.locator("#tryon-button").click()
    status = page.locator("#tryon-status")
    expect(status).to_have_text(status.get_attribute("data-kept") or "the page's kept-for-buyers message")
    assert "book" not in (status.inner_text()).lower()  # said in Arabic, not in English
    page.screenshot(path=str(artifacts / "tryon-kept-for-buyers-ar.png"))
    page.locator("#book summary").click()
    expect(page.locator("#slot option").first).not_to_have_attribute("value", "")
    page.locator("#slot").select_option(index=0)
    page.locator("#name").fill("Noor")
    page.locator("#email").fill("noor@example.org")
    page.locator("#book-form button[type=submit]").click()
    page.wait_for_url("**/pickups/*")
    assert page.locator("section.ticket").get_attribute("data-state") == "booked"
    assert fits(page)
    assert errors == ["Failed to load resource: the server responded with a status of 409 (Conflict)"]  # the refusal


def test_notify_me_on_a_teaser_then_its_confirmation_link(
    browser: Browser, live_url: str, artifacts: Path, signed_like_the_app: None
) -> None:
    from chalicelib.shop.notify import confirmation_token
    from chalicelib.shop.ports import Subscription, SubscriptionState

    page, errors = phone(browser)
    page.goto(f"{live_url}/drops/winter-knit?lang=ar")
    page.locator("form.notify input[name=email]").fill("noor@example.org")
    page.locator("form.notify button").click()
    page.wait_for_url("**m=notify**")
    expect(page.locator("p.notice[role=status]")).to_be_visible()
    page.screenshot(path=str(artifacts / "notify-asked-ar.png"))
    # The link the confirmation message carries (signed with `make run`'s key, as the app signs it).
    asked = Subscription("winter-knit", "noor@example.org", "ar", None, None, SubscriptionState.PENDING, "")
    page.goto(f"{live_url}/notify/confirm?t={confirmation_token(asked)}&lang=ar")
    expect(page.locator("h1")).to_have_text("أنت على القائمة")
    assert fits(page) and errors == []
