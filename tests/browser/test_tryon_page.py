"""The QR try-on page on a phone, and the printed tag sheet as Chromium renders it, against the running app."""

from __future__ import annotations

import io
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from chalicelib.tryon.sheets import PER_PAGE, popup_tags, sheet_svg
from chalicelib.tryon.tags import Tag, tag_url
from devtools.process import forget_process_state
from devtools.run import LOCAL_SECRET
from devtools.seed import demo_drops
from tests.browser.phone import open_page

pytestmark = pytest.mark.browser

POSTER_DARK = (47, 59, 74)  # the garment in the poster frame (#2f3b4a); the box behind it is #e9e4dc
WATCH_LAYOUT_SHIFTS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__shifts.push(entry.value);
}).observe({type: "layout-shift", buffered: true});
"""


@pytest.fixture
def signed_like_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tags signed with the key `make run` uses, as `make tags` signs them."""
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", LOCAL_SECRET)
    forget_process_state()


QR = zxingcpp.BarcodeFormats(
    zxingcpp.BarcodeFormat.QRCode
)  # only QR: a 1D reader can find a spurious barcode in a QR's modules


def open_tryon(browser: Browser, url: str, errors: list[str], requested: list[str]) -> Page:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    context.add_init_script(WATCH_LAYOUT_SHIFTS)
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requested.append(request.url))
    with page.expect_response(lambda response: "fit-poster" in response.url) as poster:
        response = page.goto(url)
    assert response is not None and response.status == 200
    assert poster.value.status == 200
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return page


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_try_on_page_on_a_phone_shows_the_poster_without_loading_the_video_or_shifting(
    browser: Browser, live_url: str, artifacts: Path, signed_like_the_app: None, lang: str
) -> None:
    errors: list[str] = []
    requested: list[str] = []
    url = tag_url(live_url, Tag("paris-marais", "OVR-SAND", "M")) + f"?lang={lang}"
    page = open_tryon(browser, url, errors, requested)
    page.screenshot(path=str(artifacts / f"tryon-{lang}.png"))
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    video = page.locator("video")
    box = video.bounding_box()
    assert box is not None and box["width"] > 300
    assert abs(box["height"] - box["width"] * 4 / 3) < 1  # sized by its attributes before any bytes
    frame = Image.open(io.BytesIO(video.screenshot())).convert("RGB")
    centre = frame.getpixel((frame.width // 2, frame.height // 2))
    assert isinstance(centre, tuple)
    assert all(abs(a - b) <= 24 for a, b in zip(centre, POSTER_DARK, strict=True)), centre  # the poster is painted
    assert not any(u.endswith(".webm") for u in requested)  # preload="none": the video waits for a tap
    assert page.evaluate("window.__shifts.reduce((a, b) => a + b, 0)") == 0
    assert errors == []


def test_asking_to_try_it_on_shows_the_place_in_line_and_cancels(
    browser: Browser, live_url: str, artifacts: Path, signed_like_the_app: None
) -> None:
    errors: list[str] = []
    page = open_page(browser, tag_url(live_url, Tag("paris-marais", "TEE-ECRU", "S")) + "?lang=en", errors)
    page.locator("#tryon-button").click()
    status = page.locator("#tryon-status")
    status.wait_for(state="visible")
    expect(status).to_contain_text(re.compile(r"Your number is [1-9]\d* \(place [1-9]\d* in line\)"))
    assert "size S" in status.inner_text()
    assert page.locator("#tryon-button").is_hidden()  # the place in line replaces the button
    page.screenshot(path=str(artifacts / "tryon-queued-en.png"))
    page.locator("#tryon-cancel").click()
    expect(status).to_contain_text("cancelled")
    assert page.locator("#tryon-cancel").is_hidden() and page.locator("#tryon-button").is_visible()
    assert errors == []


def test_a_printed_sheet_scans_tag_by_tag_and_each_tag_opens_its_garment(
    browser: Browser, live_url: str, artifacts: Path, tmp_path: Path, signed_like_the_app: None
) -> None:
    catalogs = [demo.catalog for demo in demo_drops(datetime.now(UTC))]
    tags = popup_tags(catalogs, "paris-marais", live_url, "linen-lab")
    sheet = tmp_path / "sheet-1.svg"
    sheet.write_text(sheet_svg(tags, 1), encoding="utf-8")
    context = browser.new_context(viewport={"width": 794, "height": 1123}, device_scale_factor=2)
    page = context.new_page()
    page.goto(sheet.as_uri())
    png = page.screenshot(path=str(artifacts / "tag-sheet-1.png"))
    found = {result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=QR)}
    assert found == {tag.url for tag in tags[:PER_PAGE]}
    for url in sorted(found):
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200


def test_booking_a_pickup_from_the_try_on_page_lands_on_the_confirmation(
    browser: Browser, live_url: str, signed_like_the_app: None
) -> None:
    errors: list[str] = []
    page = open_page(browser, tag_url(live_url, Tag("paris-marais", "TOTE-ECRU", "OS")) + "?lang=fr", errors)
    page.locator("#tryon-button").click()
    page.locator("#tryon-status").wait_for(state="visible")
    page.locator("#book summary").click()
    slot = page.locator("#slot option").first
    expect(slot).not_to_have_attribute("value", "")
    page.locator("#slot").select_option(index=0)
    page.locator("#name").fill("Ada Lovelace")
    page.locator("#email").fill("ada@example.org")
    page.locator("#book-form button[type=submit]").click()
    page.wait_for_url("**/pickups/*")
    assert page.locator("section.ticket").get_attribute("data-state") == "booked"
    assert errors == []
