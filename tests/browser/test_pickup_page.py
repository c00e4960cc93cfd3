"""Booking a pickup against the running app, then its confirmation page in Chromium at a phone's size."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.browser.phone import open_page

pytestmark = pytest.mark.browser


def call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_confirmation_page_shows_a_pickup_qr_and_cancels(browser: Browser, live_url: str, artifacts: Path) -> None:
    listed = call(f"{live_url}/api/popups/paris-marais/slots")
    slots = [s for s in listed["slots"] if s["remaining"] > 0]
    if not slots:  # late at night in Paris: book tomorrow
        tomorrow = date.fromisoformat(listed["date"]) + timedelta(days=1)
        next_day = call(f"{live_url}/api/popups/paris-marais/slots?date={tomorrow}")["slots"]
        slots = [s for s in next_day if s["remaining"] > 0]
    order = {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "slot_start": slots[-1]["start"],
        "items": [{"sku": "TOTE-ECRU", "size": "OS", "qty": 1}],
        "contact": {"name": "Ada Lovelace", "email": "ada@example.org"},
    }
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    booked = call(f"{live_url}/api/pickups", "POST", order, headers)
    errors: list[str] = []
    page = open_page(browser, f"{live_url}/pickups/{booked['code']}?t={booked['cancel_token']}&lang=ar", errors)
    page.screenshot(path=str(artifacts / "pickup-ar.png"))
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    qr = page.locator("svg.qr").bounding_box()
    assert qr is not None and qr["width"] >= 150  # big enough to scan from a phone screen
    assert page.locator(".code").inner_text() == booked["code"]
    page.locator("details.confirm summary").click()  # cancelling asks first
    page.locator("details.confirm button").click()
    page.wait_for_selector('section.ticket[data-state="cancelled"]')
    assert page.locator("svg.qr").count() == 0
    assert page.locator("a.primary").get_attribute("href") == "/drops/linen-lab?lang=ar"  # the drop, offered again
    assert errors == []
