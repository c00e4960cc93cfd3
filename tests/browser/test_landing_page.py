"""The landing page in real headless Chromium, at a phone's size (390×844)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 390, "height": 844}


def open_page(browser: Browser, url: str, errors: list[str]) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    response = page.goto(url)
    assert response is not None and response.status == 200
    return page


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_phone_screenshot_without_overflow(browser: Browser, live_url: str, artifacts: Path, locale: str) -> None:
    errors: list[str] = []
    page = open_page(browser, f"{live_url}/drops/linen-lab?lang={locale}", errors)
    page.screenshot(path=str(artifacts / f"landing-{locale}.png"), full_page=False)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"horizontal overflow of {overflow}px"
    direction = page.evaluate("getComputedStyle(document.documentElement).direction")
    assert direction == ("rtl" if locale == "ar" else "ltr")
    first_size = page.locator("li.size").first.bounding_box()
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
    swatch = page.evaluate("getComputedStyle(document.querySelector('.swatch')).backgroundColor")
    assert swatch == "rgb(200, 180, 138)"  # OVR-SAND's swatch, from the nonce'd stylesheet
    assert errors == []


def test_visitor_cookie_in_the_browser(browser: Browser, live_url: str) -> None:
    errors: list[str] = []
    page = open_page(browser, f"{live_url}/drops/linen-lab", errors)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["dfv"]["httpOnly"] and cookies["dfv"]["secure"] and cookies["dfv"]["sameSite"] == "Lax"
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
