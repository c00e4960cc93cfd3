"""The numbers page at phone size: each experiment's cells as cards, its verdict in words; returns
sent by a till, by SKU, packaging and pop-up and why; nothing wider than the phone."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

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


def test_returns_read_in_words_on_a_phone(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    """A till sells a tee and takes it back for another size; the numbers page's tiles and return
    charts say so."""
    studio_api = {"Authorization": f"Bearer {live.studio_token}", "Content-Type": "application/json"}
    token = post_json(f"{live.studio_url}/studio/api/popups/paris-marais/tills", {}, studio_api)["token"]
    till = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    at = datetime.now(UTC).isoformat()
    sold = {"sale_id": "walk-1", "sku": "TEE-ECRU", "size": "XL", "qty": 1, "price_minor": 4100, "sold_at": at}
    assert post_json(f"{live.url}/api/pos/sales", {"popup": "paris-marais", "sales": [sold]}, till)["applied"]
    back = {
        "return_id": "walk-r1",
        "sale_id": "walk-1",
        "sku": "TEE-ECRU",
        "size": "XL",
        "qty": 1,
        "reason": "too_small",
        "exchange": {"sku": "TEE-ECRU", "size": "XS"},
        "returned_at": at,
    }
    assert post_json(f"{live.url}/api/pos/returns", {"popup": "paris-marais", "returns": [back]}, till)["applied"]

    studio = signed_in_phone(browser, live)
    studio.goto(f"{live.studio_url}/studio/drops/linen-lab/numbers")
    tiles = studio.locator("#headline")
    expect(tiles.locator("dt")).to_have_text(
        [
            "Revenue",
            "Units sold",
            "Sell-through",
            "Average discount",
            "Margin recovered",
            "Try-ons per QR scan",
            "Returned within 30 days",
        ]
    )
    expect(tiles.locator("dd").first).not_to_have_text("none")  # the till's sale at least
    tiles.screenshot(path=artifacts / "numbers-tiles-phone.png")
    reasons = studio.locator("#return-reasons")
    expect(reasons.locator("h2")).to_have_text("Why pieces came back")
    expect(reasons.locator("svg")).to_contain_text("too small")
    rates = studio.locator("#returns")
    expect(rates.locator("svg")).to_contain_text("TEE-ECRU at paris-marais")
    expect(studio.locator("#returns-by-packaging svg")).to_contain_text("recycled-mailer")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    rates.screenshot(path=artifacts / "numbers-returns-phone.png")
    reasons.screenshot(path=artifacts / "numbers-return-reasons-phone.png")
    studio.context.close()


def post_json(url: str, body: object, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        found: dict[str, Any] = json.loads(answer.read())
    return found


def test_a_pop_ups_cost_and_its_new_customers_read_on_a_phone(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    """A marketer records what the Brooklyn pop-up cost on the drop's page; its till sends two
    receipts with emails; the numbers say how many new customers it brought and what each cost."""
    studio = signed_in_phone(browser, live)
    studio.goto(f"{live.studio_url}/studio/drops/linen-lab")
    cost = studio.locator('input[name="popup_cost.brooklyn"]')
    expect(studio.locator("label", has=cost)).to_contain_text("(USD:")
    cost.fill("900")
    studio.locator("label", has=cost).screenshot(path=artifacts / "drop-popup-cost-phone.png")
    studio.locator("form", has=cost).locator("button[type=submit]").first.click()
    expect(studio.locator('input[name="popup_cost.brooklyn"]')).to_have_value("900.00")
    studio_api = {"Authorization": f"Bearer {live.studio_token}", "Content-Type": "application/json"}
    token = post_json(f"{live.studio_url}/studio/api/popups/brooklyn/tills", {}, studio_api)["token"]
    till = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    at = datetime.now(UTC).isoformat()
    receipts = [
        {
            "sale_id": f"bk-{n}",
            "sku": "TEE-INK",
            "size": "M",
            "qty": 1,
            "price_minor": 4500,
            "sold_at": at,
            "email": who,
        }
        for n, who in enumerate(("ana@example.org", "bo@example.org"))
    ]
    assert post_json(f"{live.url}/api/pos/sales", {"popup": "brooklyn", "sales": receipts}, till)["applied"]
    studio.goto(f"{live.studio_url}/studio/drops/linen-lab/numbers")
    customers = studio.locator("#customers")
    expect(customers.locator("h2")).to_have_text("New customers per pop-up")
    row = customers.locator("tr", has=studio.locator("text=brooklyn"))
    expect(row.locator("td[data-label='New customers']")).to_have_text("2")
    expect(row.locator("td[data-label='What it cost']")).to_have_text("$900.00")
    expect(row.locator("td[data-label='Cost per new customer']")).to_have_text("$450.00")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    customers.screenshot(path=artifacts / "numbers-customers-phone.png")
    studio.context.close()


def test_the_previous_drops_fortnight_reads_on_a_phone(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    """The demo's previous drop, seeded with two weeks of history: every tile and chart shows
    something, in words; a marketer narrows it to one pop-up's first week."""
    studio = signed_in_phone(browser, live)
    studio.goto(f"{live.studio_url}/studio/drops/canvas-capsule/numbers")
    charts = studio.locator("section.chart")
    assert charts.count() >= 7
    for index in range(charts.count()):
        chart = charts.nth(index)
        expect(chart.locator("svg")).to_be_visible()
        assert "No data yet" not in chart.inner_text(), chart.get_attribute("id")
        assert "_bps" not in chart.inner_text() and "_minor" not in chart.inner_text()  # words, not field names
    whole = tiles(studio)
    assert whole["Revenue"].startswith("€") and whole["Units sold"] != "0"
    studio.locator("#headline").screenshot(path=artifacts / "numbers-history-tiles-phone.png")
    studio.screenshot(path=artifacts / "numbers-history-phone.png", full_page=True)

    scope = studio.locator("#scope")
    scope.get_by_label("Where").select_option(label="Lyon · Presqu’île")
    today = datetime.now(UTC).date()  # the drop ran from 16 days ago to 2 days ago: its first week
    scope.get_by_label("From").fill((today - timedelta(days=17)).isoformat())
    scope.get_by_label("to", exact=True).fill((today - timedelta(days=10)).isoformat())
    scope.get_by_role("button", name="Show").click()
    studio.wait_for_url("**popup=lyon-presquile**")
    week = tiles(studio)
    assert 0 < int(week["Units sold"].replace(",", "")) < int(whole["Units sold"].replace(",", ""))
    expect(studio.locator("#headline + p")).to_contain_text("For lyon-presquile, ")
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390
    scope.screenshot(path=artifacts / "numbers-history-scope-phone.png")
    studio.context.close()


def tiles(page: Page) -> dict[str, str]:
    """The numbers page's tiles, name to figure."""
    names, figures = page.locator("#headline dt").all_inner_texts(), page.locator("#headline dd").all_inner_texts()
    return dict(zip(names, figures, strict=True))
