"""The studio end to end in Chromium, against `make run`: log in, edit the landing template, preview it
in French, publish it; the shopper page shows the change; roll back and it is gone. Then a CSV
import draws its progress bar to the end."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Dialog, FilePayload, Page, expect

from devtools.live import LiveApp

pytestmark = pytest.mark.browser

MARK = "Made for the weekend"
TTL_SECONDS = 15  # the shopper app's template cache (5 s by default) with room for a slow machine


def shopper_page(url: str) -> str:
    try:
        with urllib.request.urlopen(f"{url}/drops/linen-lab?lang=en", timeout=30) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as error:
        raise AssertionError(error.read().decode()[:3000]) from None


def until(predicate: Callable[[], bool], what: str) -> None:
    """Poll ``predicate`` until it holds: the shopper app picks a publish up when its cache expires."""
    deadline = time.monotonic() + TTL_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


@pytest.fixture
def studio(browser: Browser, live: LiveApp) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live.studio_url}/studio/")
    expect(page).to_have_url(f"{live.studio_url}/studio/login")
    page.fill("#token", live.studio_token)
    page.click("button[type=submit]")
    expect(page.locator("h1").first).to_have_text("Drops")
    yield page
    assert errors == []
    context.close()


def signed_in_phone(browser: Browser, live: LiveApp) -> Page:
    """A phone-sized page signed in to the studio (close its ``context`` when done)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live.studio_url}/studio/login")
    page.fill("#token", live.studio_token)
    page.click("button[type=submit]")
    return page


def type_at(page: Page, marker: str, text: str) -> None:
    """Put the template editor's cursor just after the first ``marker`` and type ``text`` as a
    person would (keys, not a value set by script)."""
    page.wait_for_selector(".cm-editor")
    found = page.evaluate(
        """(marker) => { const view = window.dropfrontEditor, at = view.state.doc.toString().indexOf(marker);
            if (at >= 0) { view.dispatch({selection: {anchor: at + marker.length}}); view.focus(); } return at; }""",
        marker,
    )
    assert found >= 0, marker
    page.keyboard.type(text)


def test_edit_preview_publish_and_roll_back_the_landing_page(studio: Page, live: LiveApp, artifacts: Path) -> None:
    assert MARK not in shopper_page(live.url)
    studio.goto(f"{live.studio_url}/studio/templates/landing")
    type_at(studio, "{% block main %}", f'<p class="marketer">{MARK}</p>')
    studio.click("text=Save draft")
    expect(studio).to_have_url(f"{live.studio_url}/studio/templates/landing?v=1&done=draft-saved")
    expect(studio.locator(".flash")).to_have_text("Draft saved. Preview it, then publish it when it is ready.")
    studio.select_option("#lang", "fr")
    studio.click("#preview-as button[type=submit]")
    frame = studio.frame_locator("#preview")
    expect(frame.locator("p.marketer")).to_have_text(MARK)
    expect(frame.locator("html")).to_have_attribute("lang", "fr")
    studio.screenshot(path=str(artifacts / "studio-preview-fr.png"))
    questions: list[str] = []

    def say_no(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    studio.once("dialog", say_no)
    studio.click('[data-publish="1"]')  # asked first; saying no publishes nothing
    assert questions == ["Publish v1 of landing? Shoppers see it within a minute, or at the time you chose."]
    expect(studio.locator("[data-live]")).to_have_text("shipped")
    studio.once("dialog", lambda dialog: dialog.accept())
    studio.click('[data-publish="1"]')
    expect(studio.locator("[data-live]")).to_have_text("1")
    expect(studio.locator(".flash")).to_have_text("Published: shoppers see it within a minute.")
    until(lambda: MARK in shopper_page(live.url), "the published version never reached the shopper page")
    studio.once("dialog", lambda dialog: dialog.accept())
    studio.click("#rollback")
    expect(studio.locator("[data-live]")).to_have_text("shipped")
    expect(studio.locator(".flash")).to_have_text("Rolled back: shoppers see the version before within a minute.")
    until(lambda: MARK not in shopper_page(live.url), "the rolled-back version stayed on the shopper page")


def test_a_one_line_edit_in_the_browser_diffs_as_one_line(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    """The textarea submits CRLF line endings; saved normalized, the diff shows just the edited line,
    side by side, on a phone."""
    phone = signed_in_phone(browser, live)
    phone.goto(f"{live.studio_url}/studio/templates/pickup")
    assert phone.input_value("#source").count("<h1") == 1
    type_at(phone, "<h1", ' class="edited"')
    phone.click("text=Save draft")
    expect(phone).to_have_url(re.compile(r"/studio/templates/pickup\?v=\d+&done=draft-saved$"))
    version = int(phone.url.split("v=", 1)[1].split("&", 1)[0])
    phone.click(f'tr[data-version="{version}"] >> text=changes from')
    expect(phone.locator("h1")).to_contain_text("pickup: ")
    expect(phone.locator("[role=status]")).to_have_text(re.compile(r"^1 line changed\."))
    expect(phone.locator("tr.changed")).to_have_count(1)
    expect(phone.locator("tr.changed td.new ins")).to_contain_text('<h1 class="edited"')
    expect(phone.locator("tr.added, tr.removed")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    phone.screenshot(path=str(artifacts / "studio-diff-390.png"), full_page=True)
    phone.context.close()


def test_the_editor_highlights_numbers_its_lines_and_marks_a_problem_where_it_is(
    browser: Browser, live: LiveApp, artifacts: Path
) -> None:
    studio = signed_in_phone(browser, live)
    errors: list[str] = []
    studio.on("pageerror", lambda error: errors.append(str(error)))
    studio.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    studio.goto(f"{live.studio_url}/studio/templates/pickup")
    editor = studio.locator(".cm-editor")
    expect(editor).to_be_visible()
    expect(studio.locator("#source")).to_be_hidden()  # the textarea stays the form's field
    lines = studio.locator(".cm-lineNumbers .cm-gutterElement")
    assert lines.count() > 10
    tag = studio.locator(".cm-line span", has_text="endblock").first  # Jinja's keywords are marked
    assert tag.evaluate("span => getComputedStyle(span).color") != editor.evaluate("e => getComputedStyle(e).color")
    expect(studio.locator("details.names")).to_contain_text("booking")
    type_at(studio, "{% block main %}", "\n{{ no_such_thing }}")
    studio.click("text=Save draft")
    expect(studio.locator(".problems li")).to_contain_text("unknown variable 'no_such_thing'")
    expect(studio.locator(".cm-lint-marker-error")).to_have_count(1)
    expect(studio.locator(".cm-lintRange-error")).to_contain_text("no_such_thing")
    line = int(studio.locator(".problems li").get_attribute("data-line") or 0)
    # Both gutters' tops are read in one frame, until CodeMirror has measured its wrapped lines (it
    # places them by estimate first, and a page read between two frames can catch one mid-move).
    tops = studio.wait_for_function(
        """(line) => {
            const marker = document.querySelector(".cm-gutter-lint .cm-gutterElement:has(.cm-lint-marker-error)");
            const number = [...document.querySelectorAll(".cm-lineNumbers .cm-gutterElement")]
                .find(element => element.textContent === String(line));
            if (!marker || !number) return false;
            const tops = [marker.getBoundingClientRect().top, number.getBoundingClientRect().top];
            return Math.abs(tops[0] - tops[1]) < 2 && tops;
        }""",
        arg=line,
        timeout=10_000,
    ).json_value()
    assert abs(tops[0] - tops[1]) < 2  # the marker sits on the reported line
    assert studio.evaluate("document.documentElement.scrollWidth") <= 390  # the editor fits a phone
    studio.screenshot(path=str(artifacts / "studio-editor-problem-390.png"))
    assert errors == ["Failed to load resource: the server responded with a status of 422 (Unprocessable Content)"]
    studio.context.close()


def test_the_try_on_preview_loads_the_fit_videos_captions(studio: Page, live: LiveApp) -> None:
    """The preview is a sandboxed (opaque-origin) frame: the captions track loads only because the
    media are served with CORS, as CloudFront serves them (the fixture fails on any console error)."""
    studio.goto(f"{live.studio_url}/studio/templates/tryon")
    expect(studio.frame_locator("#preview").locator("track[default]")).to_have_count(1)
    frame = next(f for f in studio.frames if "/studio/templates/tryon/preview" in f.url)
    state = frame.wait_for_function(
        "() => { const t = document.querySelector('track[default]'); return t.readyState >= 2 && t.readyState; }"
    )
    assert state.json_value() == 2  # LOADED (3 is ERROR: blocked without CORS)


def test_the_qr_tag_sheets_download_and_print_as_one_job_a_page_a_sheet(
    studio: Page, live: LiveApp, tmp_path: Path
) -> None:
    studio.goto(f"{live.studio_url}/studio/drops/linen-lab")
    studio.click("text=QR tags to print >> nth=0")
    expect(studio.locator("h1")).to_have_text("QR tags at paris-marais")
    expect(studio.locator(".sheets img")).to_have_count(3)
    for image in studio.locator(".sheets img").all():
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0  # the SVG loaded under the page's CSP
    with studio.expect_download() as download:
        studio.click("text=Download all 3 pages as one PDF")
    assert download.value.suggested_filename == "linen-lab-paris-marais-tags.pdf"
    made = Path(download.value.path()).read_bytes()
    assert re.findall(rb"/Count (\d+)", made) == [b"3"]  # the server's PDF: a page per sheet
    studio.emulate_media(media="print")
    pdf = studio.pdf(path=str(tmp_path / "tags.pdf"), format="A4")
    assert re.findall(rb"/Type /Pages\s*/Count (\d+)", pdf) == [b"3"]  # one sheet a page, no blank page


def test_a_csv_import_fills_its_progress_bar(studio: Page, live: LiveApp) -> None:
    csv_file = Path(__file__).resolve().parents[2] / "devtools" / "demo_import.csv"
    studio.goto(f"{live.studio_url}/studio/drops/winter-knit/import")
    studio.set_input_files("#csv", str(csv_file))
    studio.click("#import button[type=submit]")
    expect(studio.locator("#status")).to_contain_text("Imported 3 SKUs, 14 stock lines, 111 units.")
    assert studio.eval_on_selector("#bar", "bar => bar.value") == 100
    studio.reload()  # the import outlives its request: the page reads how it ended
    expect(studio.locator(".last-import")).to_contain_text("Imported 3 SKUs, 14 stock lines, 111 units")
    expect(studio.locator(".last-import")).to_contain_text("live since")
    # As Excel saves it where the decimal mark is a comma: semicolons between the columns.
    bad = csv_file.read_text(encoding="utf-8").replace("CRW-HEATHER,crew,XS", "crw heather,crew,XS", 1)
    payload: FilePayload = {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.replace(",", ";").encode()}
    studio.set_input_files("#csv", files=[payload])
    studio.click("#import button[type=submit]")
    expect(studio.locator("#problems li")).to_have_count(1)
    expect(studio.locator("#problems li")).to_have_text(
        "Row 2, column A (sku): needs upper-case letters, digits and dashes"
    )
    expect(studio.locator("#bar")).to_be_hidden()
    with studio.expect_download() as download:
        studio.click("text=Download this drop as a CSV")
    assert download.value.suggested_filename == "winter-knit-import.csv"
    assert len(Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()) == 1 + 14


def test_a_stopped_import_is_carried_on_by_the_same_file(
    browser: Browser, live: LiveApp, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import cut off by a timeout (run here, against the live app's database); the page says the
    same file carries on, and uploading it at phone size does."""
    from chalicelib.core.errors import Unavailable
    from chalicelib.store.imports import DynamoImports
    from devtools.process import forget_process_state
    from tests.studio.test_imports import TimeoutAt, import_with, many_skus, to_csv

    monkeypatch.setenv("DROPFRONT_DYNAMODB_ENDPOINT", live.dynamodb_url)
    monkeypatch.setenv("DROPFRONT_TABLE", "dropfront")  # the table `make run` seeds
    forget_process_state()
    text = to_csv(many_skus(60))  # 300 items; write 9 is the progress after the fourth batch
    with pytest.raises(Unavailable):
        import_with(DynamoImports("dropfront", call=TimeoutAt(9)), text)
    page = signed_in_phone(browser, live)
    page.goto(f"{live.studio_url}/studio/drops/winter-knit/import")
    expect(page.locator(".last-import")).to_contain_text("carry on from 100 of 300 written")
    payload: FilePayload = {"name": "winter.csv", "mimeType": "text/csv", "buffer": text.encode()}
    page.set_input_files("#csv", files=[payload])
    page.click("#import button[type=submit]")
    expect(page.locator("#status")).to_contain_text("Imported 60 SKUs, 240 stock lines, 1200 units.")
    expect(page.locator("#status")).to_contain_text("100 items were already written")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "import-carried-on.png"), full_page=True)
    page.context.close()


def book_tomorrow(live: LiveApp) -> str:
    """A pickup booked through the shopper API, as a phone elsewhere would; its code."""
    day = (datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")) + timedelta(days=1)).date()
    with urllib.request.urlopen(f"{live.url}/api/popups/paris-marais/slots?date={day}", timeout=30) as response:
        start = json.loads(response.read())["slots"][0]["start"]
    body = {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "slot_start": start,
        "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}],
        "contact": {"name": "Noor Haddad", "email": f"noor-{uuid.uuid4().hex[:8]}@example.org"},
    }
    request = urllib.request.Request(
        f"{live.url}/api/pickups",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["code"])


def test_the_pop_up_staff_page_works_on_a_small_phone(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    """Staff run the rail from a 360 px phone: nothing wider than the screen, buttons tappable, new
    bookings appear without a reload, and a code read out at the counter finds its booking."""
    context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live.studio_url}/studio/login")
    page.fill("#token", live.studio_token)
    page.click("button[type=submit]")
    page.goto(f"{live.studio_url}/studio/popups/paris-marais")
    expect(page.locator("h1")).to_contain_text("paris-marais")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    code = book_tomorrow(live)
    booked = page.locator(f'#pickups tr[data-code="{code}"]')
    expect(booked).to_be_visible(timeout=25_000)  # the page read it again by itself
    expect(page.locator("#refreshed")).to_contain_text("Updated at")
    page.fill("#code", f"{code[:4].lower()} {code[4:]}")
    page.click("#find button[type=submit]")
    found = page.locator("#found")
    expect(found.locator("h2")).to_have_text(f"Booking {code}")
    expect(found).to_contain_text("Noor Haddad · to collect")
    for button in page.locator("button").all():
        box = button.bounding_box()
        assert box is None or (box["height"] >= 40 and box["x"] + box["width"] <= 360), button.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(artifacts / "staff-found-360.png"), full_page=True)
    issue = page.locator("button", has_text="Issue a till token")
    issue.click()
    expect(page.locator("#new-till")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#tills button", has_text="Revoke").first.click()
    expect(page.locator(".flash")).to_have_text("Till token revoked: that till can no longer send sales.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_a_picture_set_in_the_studio_shows_on_the_drop_page(
    studio: Page, live: LiveApp, browser: Browser, tmp_path: Path
) -> None:
    from PIL import Image, ImageDraw

    photo = tmp_path / "photo.jpg"
    image = Image.new("RGB", (1600, 1200), (90, 120, 160))
    ImageDraw.Draw(image).ellipse((400, 200, 1200, 1000), fill=(230, 200, 120))
    image.save(photo)
    studio.goto(f"{live.studio_url}/studio/drops/linen-lab")
    row = studio.locator('#pictures tr[data-sku="JKT-RUST"]')
    row.locator("input[type=file]").set_input_files(str(photo))
    expect(row.locator("[role=status]")).to_have_text("Saved: shoppers see it within a minute.", timeout=15000)
    # The shop's pages read the catalog through a cache of a few seconds: the new picture shows once it turns.
    until(lambda: "/media/products/linen-lab/jkt-rust-" in shopper_page(live.url), "the new picture")
    shop = browser.new_page(viewport={"width": 390, "height": 844})
    shop.goto(f"{live.url}/drops/linen-lab?lang=en")
    picture = shop.locator('li.card[data-sku="JKT-RUST"] img.photo')
    picture.scroll_into_view_if_needed()
    assert str(picture.get_attribute("src")).endswith("-720.webp")
    shop.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=picture.element_handle())


def test_a_marketer_sets_a_cohorts_budget_per_day_and_per_pop_up_on_a_phone(
    browser: Browser, live: LiveApp, artifacts: Path
) -> None:
    page = signed_in_phone(browser, live)
    page.goto(f"{live.studio_url}/studio/drops/linen-lab/pricing")
    per_day = page.get_by_label("Budget per day EUR").nth(1)  # the creator cohort's rule, the second row
    per_popup = page.get_by_label("Budget per pop-up EUR").nth(1)
    expect(per_day).to_have_value("200.00")
    expect(per_popup).to_have_value("300.00")
    per_day.fill("120,50")
    per_popup.fill("")  # no limit per pop-up
    page.click("#offers button[type=submit]")
    expect(page.locator("[role=status]").first).to_contain_text("saved")
    expect(page.get_by_label("Budget per day EUR").nth(1)).to_have_value("120.50")
    expect(page.get_by_label("Budget per pop-up EUR").nth(1)).to_have_value("")
    expect(page.get_by_text("120.50 EUR").first).to_be_visible()  # the audit log, in words
    expect(page.locator("details.budgets[open] p").first).to_contain_text("Granted so far")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(artifacts / "studio-budgets-390.png"), full_page=True)
    page.context.close()


def test_a_delivery_is_added_from_the_drop_page_on_a_phone(browser: Browser, live: LiveApp, artifacts: Path) -> None:
    page = signed_in_phone(browser, live)
    page.goto(f"{live.studio_url}/studio/drops/linen-lab")
    form = page.locator("#restock")
    form.locator("select[name=sku]").select_option("VST-MOSS")
    form.locator("select[name=size]").select_option("XL")
    form.locator("select[name=location]").select_option("paris-marais")
    form.locator("input[name=qty]").fill("3")
    form.get_by_role("button", name="Add stock").click()
    expect(page.locator("[role=status]").first).to_contain_text("Stock added")
    expect(page.get_by_text("+3 VST-MOSS XL at Paris · Le Marais").first).to_be_visible()  # the audit log
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    def at_paris() -> int:
        with urllib.request.urlopen(f"{live.url}/api/drops/linen-lab/stock", timeout=30) as answer:
            products = json.loads(answer.read())["products"]
        sizes = next(p["sizes"] for p in products if p["sku"] == "VST-MOSS")
        return int(next(s["available"]["paris-marais"] for s in sizes if s["size"] == "XL"))

    until(lambda: at_paris() == 3, "the shop shows the delivery")  # none there before it
    page.screenshot(path=str(artifacts / "studio-restock-390.png"))
    page.context.close()
