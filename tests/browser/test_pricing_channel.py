"""A marketer sets where an experiment cell's discount applies, on a phone: the pricing form's
channel for launch-depth's five-off cell, saved as a new policy version, and shown again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from devtools.live import LiveApp, live_app
from tests.browser.test_studio import signed_in_phone

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_app() -> Iterator[LiveApp]:
    """An app of its own: the other browser tests price with the demo's policy as seeded."""
    with live_app() as app:
        yield app


def test_a_cells_channel_is_set_from_the_pricing_form(browser: Browser, own_app: LiveApp, artifacts: Path) -> None:
    studio = signed_in_phone(browser, own_app)
    studio.goto(f"{own_app.studio_url}/studio/drops/linen-lab/pricing")
    cell = studio.locator("fieldset.experiment[data-experiment='1'] .row[data-cell='1']")
    expect(cell.locator("input[name$='.name']")).to_have_value("five-off")
    cell.locator("select[name$='.channel']").select_option("popup")
    studio.get_by_role("button", name="Save offer rules, markdowns and experiments").click()
    expect(studio.locator(".flash")).to_contain_text("Pricing saved")
    cell = studio.locator("fieldset.experiment[data-experiment='1'] .row[data-cell='1']")
    expect(cell.locator("select[name$='.channel']")).to_have_value("popup")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    cell.screenshot(path=artifacts / "pricing-cell-channel-phone.png")
    studio.context.close()
