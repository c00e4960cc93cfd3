"""Replaying a decision in the studio at phone size: a price the shop showed (its decision id, as
the drop's JSON gives it) looked up from the drop's Replay page, shown again with what went in and
what came out, and said to match."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from devtools.live import LiveApp
from tests.browser.test_studio import signed_in_phone

pytestmark = pytest.mark.browser


def test_a_shown_price_replays_from_the_studio(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    with urllib.request.urlopen(f"{live.url}/api/drops/linen-lab?lang=en", timeout=30) as response:
        product = json.loads(response.read())["products"][0]
    decision = product["offer"]["decision_id"]
    studio = signed_in_phone(browser, live)
    studio.goto(f"{live.studio_url}/studio/drops/linen-lab")
    studio.get_by_role("link", name="Replay").click()
    studio.get_by_label("Decision id").fill(decision)
    studio.get_by_role("button", name="Replay").click()
    expect(studio.locator("#replay [role=status]")).to_contain_text("It matches")
    expect(studio.locator("#replay")).to_contain_text(product["sku"])
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    studio.screenshot(path=artifacts / "replay-studio-phone.png", full_page=True)
    studio.context.close()
