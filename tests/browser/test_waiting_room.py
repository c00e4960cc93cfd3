"""The waiting room in Chromium at phone size: a marketer turns it on for a launch from the studio,
shoppers in each locale who come after the first see their place in the queue, and the first is let
in by the page's own refresh, onto the drop's page with its reserve forms."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from devtools.live import LiveApp, live_app
from tests.browser.phone import open_page
from tests.browser.test_studio import signed_in_phone

pytestmark = pytest.mark.browser

LOCALES = ("en", "fr", "de", "es", "ja", "ar")
QUEUE_TITLES = {
    "en": "You are in the queue",
    "fr": "Vous êtes dans la file d’attente",
    "de": "Sie sind in der Warteschlange",
    "es": "Estás en la cola",
    "ja": "順番待ちの列に並んでいます",
    "ar": "أنت في قائمة الانتظار",
}

ARABIC_INDIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


@pytest.fixture(scope="module")
def launch() -> Iterator[LiveApp]:
    """An app of its own (the room changes the demo drop's opening), reading the catalog afresh."""
    with live_app(settings={"DROPFRONT_CATALOG_CACHE_SECONDS": "0"}) as app:
        yield app


def test_a_launch_behind_the_waiting_room(browser: Browser, launch: LiveApp, artifacts: Path) -> None:
    errors: list[str] = []
    early = open_page(browser, f"{launch.url}/drops/linen-lab?lang=en", errors)  # open before the room is
    studio = signed_in_phone(browser, launch)
    studio.goto(f"{launch.studio_url}/studio/drops/linen-lab")
    zone = ZoneInfo(studio.locator("legend", has_text="Dates (").inner_text().split("(")[1].rstrip(")"))
    studio.fill("input[name=starts_at]", datetime.now(UTC).astimezone(zone).strftime("%Y-%m-%dT%H:%M"))
    room = studio.locator("#waiting-room")
    room.get_by_label("On for this drop's launch").check()
    room.get_by_label("Shoppers let in per minute").fill("10")
    room.get_by_label("Minutes it stays on after the start").fill("30")
    studio.get_by_role("button", name="Save drop").click()
    expect(studio.locator(".flash")).to_contain_text("Drop saved")
    expect(studio.locator("#room-status")).to_contain_text("let in 10 a minute")
    room.screenshot(path=artifacts / "waiting-room-studio-phone.png")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390

    pages: dict[str, Page] = {}
    first_arrival = time.monotonic()
    for locale in LOCALES:  # one shopper after another: each has the earlier ones ahead
        pages[locale] = open_page(browser, f"{launch.url}/drops/linen-lab?lang={locale}", errors)
        if locale != "en":  # held where it is while it is checked: its refreshes get 204, which keeps the page
            pages[locale].route("**/drops/linen-lab*", lambda route: route.fulfill(status=204))
    for locale in LOCALES[1:]:
        page = pages[locale]
        expect(page.locator("h1")).to_have_text(QUEUE_TITLES[locale])
        assert page.locator("html").get_attribute("lang") == locale
        expect(page.locator("#queue progress")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, locale
        page.screenshot(path=artifacts / f"waiting-room-queue-{locale}.png", full_page=True)
    # The room lets one in every 6 s from the first arrival's second, so the sixth shopper has the
    # five before it ahead, less those let in while the pages opened (slowly, on a busy machine).
    elapsed = time.monotonic() - first_arrival
    notice = pages["ar"].locator("#queue .notice").inner_text()
    ahead = int(re.findall(r"\d+", notice.translate(ARABIC_INDIC_DIGITS))[0])
    assert max(1, 5 - math.ceil((elapsed + 1) / 6)) <= ahead <= 5, (notice, elapsed)

    card = early.locator("li.card").first  # its reserve form, pressed now, leads into the queue
    card.locator("label.size.pick").first.click()
    card.locator("form.reserve button").click()
    expect(early.locator("h1")).to_have_text(QUEUE_TITLES["en"])

    first = pages["en"]  # let in by its own refresh (one shopper every 6 s), onto the drop's reserve forms
    expect(first.locator("form[action*='/reserve']").first).to_be_visible(timeout=30_000)
    first.screenshot(path=artifacts / "waiting-room-let-in-en.png")
    # A copy of the shop writes its tally at most once a second, on a request: the last arrival is
    # in the table once a later view (here, the first shopper's) comes a second after it.
    for _ in range(50):
        studio.reload()
        if "So far 7 came" in studio.locator("#room-status").inner_text():
            break
        first.reload()
    expect(studio.locator("#room-status")).to_contain_text("So far 7 came")
    assert errors == []
    studio.context.close()
    for page in (early, *pages.values()):
        page.context.close()
