"""The numbers page's experiments at phone size: each experiment's cells as cards, its verdict in
words, and nothing wider than the phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from devtools.live import LiveApp
from tests.browser.test_studio import signed_in_phone

pytestmark = pytest.mark.browser


def test_the_experiments_read_on_a_phone(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    studio = signed_in_phone(browser, live)
    studio.goto(f"{live.studio_url}/studio/drops/linen-lab/numbers")
    experiments = studio.locator("#experiments")
    expect(experiments.locator("h3")).to_have_text(["urgency-copy", "launch-depth"])
    expect(experiments.locator(".verdict").first).to_contain_text("Not enough data yet")
    expect(experiments.locator("td[data-label='Conversion (95 % interval)']").first).not_to_be_empty()
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    experiments.screenshot(path=artifacts / "numbers-experiments-phone.png")
    studio.context.close()
