"""A pop-up's markdown on a phone: a marketer adds a stage at Paris that waits for its door counter,
the till reports a busy, unconverting day, and the shopper who scans a Paris tag sees the lower
price there, in each locale, while the drop's own page keeps the drop-wide one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from chalicelib.tryon.tags import Tag, tag_url
from devtools.live import LiveApp, live_app
from tests.browser.phone import open_page
from tests.browser.test_numbers import post_json
from tests.browser.test_studio import signed_in_phone
from tests.browser.test_tryon_page import signed_like_the_app
from tests.conftest import earlier_today

pytestmark = pytest.mark.browser
__all__ = ["signed_like_the_app"]  # the fixture, used by name


@pytest.fixture(scope="module")
def own_app() -> Iterator[LiveApp]:
    """An app of its own (its policy changes), reading the policy and the signals afresh."""
    with live_app(settings={"DROPFRONT_CATALOG_CACHE_SECONDS": "0"}) as app:
        yield app


def test_a_busy_pop_up_marks_down_what_is_priced_there(
    browser: Browser, own_app: LiveApp, artifacts: Path, signed_like_the_app: None
) -> None:
    errors: list[str] = []
    tag = tag_url(own_app.url, Tag("paris-marais", "TEE-ECRU", "M"))
    shopper = open_page(browser, f"{tag}?lang=en", errors)
    before = int(shopper.locator("p.price").get_attribute("data-price-minor") or 0)
    landing = open_page(browser, f"{own_app.url}/drops/linen-lab?lang=en", errors)
    card = landing.locator("li.card[data-sku='TEE-ECRU']")
    on_the_drop_page = card.get_attribute("data-price-minor")

    studio = signed_in_phone(browser, own_app)
    studio.goto(f"{own_app.studio_url}/studio/drops/linen-lab/pricing")
    row = studio.locator(".row[data-markdown]").last  # the blank row, to add a stage
    row.get_by_label("Where").select_option(label="at Paris · Le Marais")
    row.get_by_label("After (hours into the drop)").fill("0")
    row.get_by_label("if sold through below").fill("100")
    row.get_by_label("and footfall today over (people, pop-up only)").fill("20")
    row.get_by_label("and conversion today below (pop-up only)").fill("10")
    row.get_by_label("discount").fill("10")
    studio.get_by_role("button", name="Save offer rules, markdowns and experiments").click()
    expect(studio.locator(".flash")).to_contain_text("Pricing saved")
    saved = studio.locator(".row[data-markdown]").nth(studio.locator(".row[data-markdown]").count() - 2)
    expect(saved.get_by_label("Where")).to_have_value("paris-marais")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    saved.screenshot(path=artifacts / "pricing-popup-markdown-phone.png")

    shopper.reload()  # nobody came through the door yet: the stage waits
    assert int(shopper.locator("p.price").get_attribute("data-price-minor") or 0) == before
    studio_api = {"Authorization": f"Bearer {own_app.studio_token}", "Content-Type": "application/json"}
    token = post_json(f"{own_app.studio_url}/studio/api/popups/paris-marais/tills", {}, studio_api)["token"]
    till = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    counts = [{"at": earlier_today(ZoneInfo("Europe/Paris"), 5).isoformat(), "entered": 30}]  # Paris's today
    assert post_json(f"{own_app.url}/api/pos/footfall", {"popup": "paris-marais", "counts": counts}, till)["recorded"]

    studio.reload()  # the marketer sees what the stage reads there today
    signals = studio.locator("#popup-signals")
    expect(signals).to_contain_text(
        "Today at Paris · Le Marais: 30 through the door, 0 sold at the till (0 % conversion)"
    )
    signals.screenshot(path=artifacts / "pricing-popup-signals-phone.png")

    for lang in ("en", "fr", "ar"):
        shopper.goto(f"{tag}?lang={lang}")
        price = shopper.locator("p.price")
        after = int(price.get_attribute("data-price-minor") or 0)
        assert after < before, (lang, after, before)
        assert shopper.evaluate("document.documentElement.scrollWidth") <= 390
        shopper.screenshot(path=artifacts / f"tryon-popup-markdown-{lang}.png")
    landing.reload()
    assert landing.locator("li.card[data-sku='TEE-ECRU']").get_attribute("data-price-minor") == on_the_drop_page
    assert errors == []
    for page in (shopper, landing, studio):
        page.context.close()
