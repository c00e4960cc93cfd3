"""The landing page in real headless Chromium, at a phone's size (390×844)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from devtools.process import forget_process_state
from tests.browser.phone import PHONE, open_page, size_chip

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_phone_screenshot_without_overflow(browser: Browser, live_url: str, artifacts: Path, locale: str) -> None:
    errors: list[str] = []
    page = open_page(browser, f"{live_url}/drops/linen-lab?lang={locale}", errors)
    page.screenshot(path=str(artifacts / f"landing-{locale}.png"), full_page=False)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"horizontal overflow of {overflow}px"
    direction = page.evaluate("getComputedStyle(document.documentElement).direction")
    assert direction == ("rtl" if locale == "ar" else "ltr")
    first_size = page.locator(".size").first.bounding_box()
    assert first_size is not None
    # RTL is applied to layout, not just declared: the first size chip starts at the right edge.
    if locale == "ar":
        assert first_size["x"] + first_size["width"] > PHONE["width"] / 2
    else:
        assert first_size["x"] < PHONE["width"] / 2
    assert errors == []  # no CSP violations, no script errors, no failed favicon


def test_styles_apply_under_the_csp(browser: Browser, live_url: str) -> None:
    errors: list[str] = []
    page = open_page(browser, f"{live_url}/drops/linen-lab", errors)
    photo = page.evaluate("getComputedStyle(document.querySelector('.photo')).backgroundColor")
    assert photo == "rgb(239, 235, 228)"  # the picture's linen, from the nonce'd critical stylesheet
    assert errors == []


def test_visitor_cookie_in_the_browser(browser: Browser, live_url: str) -> None:
    errors: list[str] = []
    page = open_page(browser, f"{live_url}/drops/linen-lab", errors)
    cookies = {c["name"]: c for c in page.context.cookies()}  # the edge gave this new visitor an id
    assert cookies["dfs"]["httpOnly"] and cookies["dfs"]["secure"] and cookies["dfs"]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read it


def test_teaser_countdown_ticks(browser: Browser, live_url: str) -> None:
    errors: list[str] = []
    page = open_page(browser, f"{live_url}/drops/winter-knit?lang=de", errors)
    countdown = page.locator("[data-countdown]")
    first = countdown.inner_text()
    assert first.strip()
    page.wait_for_function(
        "previous => document.querySelector('[data-countdown]').textContent !== previous", arg=first, timeout=5000
    )
    assert errors == []


def test_personalized_page_shows_the_struck_list_price_and_the_cells_urgency(
    browser: Browser, live_url: str, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gold visitor whose id hashes into the countdown cell (found, not chosen: cells are server-side)."""
    from datetime import UTC, datetime

    from chalicelib.core.tokens import Purpose, sign
    from chalicelib.pricing.experiments import assign, urgency
    from devtools.run import LOCAL_SECRET
    from devtools.seed import demo_drops

    policy = demo_drops(datetime.now(UTC))[0].pricing
    assert policy is not None
    visitor = next(
        f"browser-visitor-{i:04d}"
        for i in range(10_000)
        if urgency(assign(f"browser-visitor-{i:04d}", policy.experiments)) == "countdown"
    )
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", LOCAL_SECRET)  # the key `make run` signs with
    forget_process_state()
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "dfv", "value": sign(Purpose.VISITOR, {"v": visitor, "t": "gold"}), "url": live_url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_url}/drops/linen-lab?lang=fr")
    page.screenshot(path=str(artifacts / "landing-personalized-fr.png"))
    struck = page.locator(".card").first.locator(".price s")
    assert struck.is_visible()
    price = int(page.locator(".card").first.get_attribute("data-price-minor") or "0")
    assert 0 < price < 11000  # OVR-SAND's EUR list price, struck beside it
    line = page.locator('[data-urgency="countdown"]')
    assert line.is_visible() and "Ce drop ferme dans" in line.inner_text()
    assert errors == []


def test_the_stock_refresh_finds_each_size_chip_by_its_radio(browser: Browser, live_url: str) -> None:
    """While the page is open its script reads the drop's stock again and rewrites each chip it
    finds: a chip showing made-up counts gets the drop's own back, its cue and words with them."""
    errors: list[str] = []
    page = open_page(browser, f"{live_url}/drops/linen-lab?lang=fr", errors)
    chip = page.locator(f'li.card[data-sku="TEE-ECRU"] {size_chip("S")}')
    served, words = chip.get_attribute("data-at"), chip.locator("span").inner_text()
    chip.evaluate("label => { label.dataset.at = 'paris-marais:0,brooklyn:0'; label.className = 'size sold_out pick' }")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # as a shopper coming back to the tab
    expect(chip).to_have_attribute("data-at", str(served))
    expect(chip.locator("span")).to_have_text(words)
    assert "sold_out" not in str(chip.get_attribute("class"))
    assert errors == []
