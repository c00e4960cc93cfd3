"""Sharded stock in Chromium at phone size: a marketer splits the drop's stock over 4 records per size
before a launch, from the studio; shoppers in every locale see the same units per size and place as
before; one reserves and books a piece of a size spread over the records, and the size's total drops
by one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from chalicelib.shop.page import chip_units
from devtools.live import LiveApp, live_app
from tests.browser.phone import open_page, size_chip
from tests.browser.test_reserve_journey import book_on_the_hold_page
from tests.browser.test_studio import signed_in_phone

pytestmark = pytest.mark.browser

LOCALES = ("en", "fr", "de", "es", "ja", "ar")
SIZE = f'li.card[data-sku="TEE-ECRU"] {size_chip("S")}'  # 4 at paris-marais in the demo


@pytest.fixture(scope="module")
def launch() -> Iterator[LiveApp]:
    """An app of its own (the drop's stock is re-split and sold), reading the catalog afresh."""
    with live_app(settings={"DROPFRONT_CATALOG_CACHE_SECONDS": "0", "DROPFRONT_STOCK_CACHE_SECONDS": "0"}) as app:
        yield app


def test_a_marketer_splits_the_stock_and_shoppers_see_and_buy_it_as_before(
    browser: Browser, launch: LiveApp, artifacts: Path
) -> None:
    errors: list[str] = []
    before = {
        locale: open_page(browser, f"{launch.url}/drops/linen-lab?lang={locale}", errors)
        .locator(SIZE)
        .get_attribute("data-at")
        for locale in LOCALES
    }
    studio = signed_in_phone(browser, launch)
    studio.goto(f"{launch.studio_url}/studio/drops/linen-lab")
    records = studio.locator("#stock-records")
    expect(records).to_contain_text("One record takes about 30 purchases a second")
    records.get_by_label("Stock records per size").fill("4")
    studio.get_by_role("button", name="Save drop").click()
    expect(studio.locator(".flash")).to_contain_text("Drop saved")
    expect(studio.locator("#stock-records input")).to_have_value("4")
    records.screenshot(path=artifacts / "sharded-stock-studio-phone.png")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    studio.goto(f"{launch.studio_url}/studio/audit?drop=linen-lab")
    expect(studio.locator("body")).to_contain_text("Stock records per size")

    for locale in LOCALES:  # the same units per size and place, whatever the split
        page = open_page(browser, f"{launch.url}/drops/linen-lab?lang={locale}", errors)
        assert page.locator(SIZE).get_attribute("data-at") == before[locale], locale
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, locale
    at_paris = chip_units(str(before["en"]))["paris-marais"]

    shopper = open_page(browser, f"{launch.url}/drops/linen-lab?lang=en", errors)
    card = shopper.locator('li.card[data-sku="TEE-ECRU"]')
    card.locator(size_chip("S")).click()
    card.locator("select[name=popup]").select_option("paris-marais")
    card.locator("form.reserve button").click()
    expect(card.locator(".panel #hold-timer")).to_be_visible()
    book_on_the_hold_page(shopper)
    expect(card.locator(".panel section.ticket")).to_have_attribute("data-state", "booked")
    card.screenshot(path=artifacts / "sharded-stock-booked-en.png")
    again = open_page(browser, f"{launch.url}/drops/linen-lab?lang=en", errors)
    left = chip_units(str(again.locator(SIZE).get_attribute("data-at")))
    assert left["paris-marais"] == at_paris - 1, "one piece of the size's total is gone"
    assert errors == []
