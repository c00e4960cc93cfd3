"""A drop page kept at the edge, in Chromium at a phone's size: the next new visitors get the page the
first one's view rendered (`X-Cache: Hit`) and send its form: it carries no token of anyone's, and
what it asks for is this visitor's own. The teaser drop has no price test, so every new visitor in
one market and language has the same segment key."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.phone import PHONE

pytestmark = pytest.mark.browser


def crowd(browser: Browser, count: int) -> list[Page]:
    """``count`` new visitors' phones: no cookie between them."""
    contexts = (
        browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True) for _ in range(count)
    )
    return [context.new_page() for context in contexts]


def open_together(pages: list[Page], url: str) -> list[tuple[Page, Response]]:
    """Every page asks for ``url`` at once, as a crowd at a launch does: each navigation is started
    before any answer is waited on, so the later ones reach the edge while the first one's origin
    request is under way (they wait for it: CloudFront's request collapsing) or within the second it
    is kept, however slow the machine is."""
    with ExitStack() as answers:
        waits = [answers.enter_context(page.expect_response(url)) for page in pages]
        for page in pages:
            page.evaluate("url => { location.href = url }", url)
    return [(page, wait.value) for page, wait in zip(pages, waits, strict=True)]


@pytest.mark.parametrize("locale", ["fr", "de"])
def test_a_page_kept_for_a_segment_serves_the_next_visitors_who_send_its_form(
    browser: Browser, live_url: str, artifacts: Path, locale: str
) -> None:
    answers: list[tuple[Page, Response]] = []
    for _ in range(3):  # a round is 3 phones at once; one more if they all missed
        answers += open_together(crowd(browser, 3), f"{live_url}/drops/winter-knit?lang={locale}")
        if any(answer.headers.get("x-cache", "").startswith("Hit") for _, answer in answers):
            break
    assert all(answer.status == 200 for _, answer in answers)
    caching = [answer.headers.get("cache-control", "") for _, answer in answers]
    assert all(cache.startswith("public") and "s-maxage=1" in cache for cache in caching)
    kept = [page for page, answer in answers if answer.headers.get("x-cache", "").startswith("Hit")]
    assert kept, [answer.headers.get("x-cache") for _, answer in answers]
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
    for page, _ in answers:
        page.context.close()
