"""A drop page kept at the edge, in Chromium at a phone's size: the next new visitors get the page the
first one's view rendered (`X-Cache: Hit`) and send its form: it carries no token of anyone's, and
what it asks for is this visitor's own. The teaser drop has no price test, so every new visitor in
one market and language has the same segment key."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.phone import PHONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["fr", "de"])
def test_a_page_kept_for_a_segment_serves_the_next_visitors_who_send_its_form(
    browser: Browser, live_url: str, artifacts: Path, locale: str
) -> None:
    phones: list[BrowserContext] = []
    answers: list[tuple[Page, str, str]] = []
    while len(phones) < 6 and not any(served.startswith("Hit") for _, served, _ in answers):
        phones.append(browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True))
        page = phones[-1].new_page()
        answer = page.goto(f"{live_url}/drops/winter-knit?lang={locale}", wait_until="commit")
        assert answer is not None and answer.status == 200
        answers.append((page, answer.headers.get("x-cache", ""), answer.headers.get("cache-control", "")))
    assert all(cache.startswith("public") and "s-maxage=1" in cache for _, _, cache in answers)
    kept = [page for page, served, _ in answers if served.startswith("Hit")]
    assert kept, [served for _, served, _ in answers]  # the next phone within the page's second
    page = kept[-1]
    page.wait_for_load_state()
    assert {c["name"] for c in page.context.cookies()} == {"dfs"}  # this visitor's id, given at the edge
    form = page.locator("form.notify").first
    assert form.locator('input[name="ft"]').get_attribute("value") == ""
    page.screenshot(path=str(artifacts / f"edge-kept-teaser-{locale}.png"))
    form.locator('input[type="email"]').fill(f"edge-{locale}@example.org")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**m=notify**")
    expect(page.locator("p.notice[role=status]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts / f"edge-kept-teaser-asked-{locale}.png"))
    for context in phones:
        context.close()
