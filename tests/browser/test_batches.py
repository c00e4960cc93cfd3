"""A production batch walked at phone size: a marketer records one for a sold-out size, a shopper's
card says when it is due (in French and Arabic), and the marketer marks it received."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from devtools.live import LiveApp
from tests.browser.phone import open_page
from tests.browser.test_studio import signed_in_phone

pytestmark = pytest.mark.browser


def test_a_batch_from_the_studio_to_the_shoppers_card(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    studio = signed_in_phone(browser, live)
    studio.goto(f"{live.studio_url}/studio/drops/linen-lab")
    form = studio.locator("#plan-batch")
    form.get_by_label("Piece").select_option("TRS-STONE")
    form.get_by_label("For").select_option("paris-marais")
    due = (datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")) + timedelta(days=5)).date()
    form.get_by_label("Ready on (the place's local date)").fill(due.isoformat())
    form.get_by_label("XS", exact=True).fill("4")
    form.get_by_role("button", name="Record batch").click()
    expect(studio.locator(".flash")).to_contain_text("Batch recorded")
    batches = studio.locator("#batches")
    expect(batches).to_contain_text("XS × 4")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    batches.screenshot(path=artifacts / "batches-studio-phone.png")

    errors: list[str] = []
    for locale, words in (("fr", "Prochain lot prêt le"), ("ar", "الدفعة التالية جاهزة في")):
        page = open_page(browser, f"{live.url}/drops/linen-lab?lang={locale}", errors)
        card = page.locator('li.card[data-sku="TRS-STONE"]')
        for _ in range(30):  # the shop reads its catalog afresh every few seconds
            if card.locator("p.batch", has_text="XS").count():
                break
            page.wait_for_timeout(500)
            page.reload()
            card = page.locator('li.card[data-sku="TRS-STONE"]')
        expect(card.locator("p.batch", has_text="XS")).to_contain_text(words)
        expect(card.locator("p.batch")).to_have_count(2)  # and the demo's batch of L, on its own day
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        card.screenshot(path=artifacts / f"batches-card-{locale}.png")
        page.context.close()
    assert errors == []

    ours = batches.locator("tr", has_text="XS × 4")
    ours.get_by_role("button", name="Received: add to stock").click()
    expect(studio.locator(".flash")).to_contain_text("Batch received")
    expect(studio.locator("#batches tr", has_text="XS × 4")).not_to_contain_text("Received: add to stock")
    studio.context.close()
