"""The studio's QR routes through Starlette's TestClient: auth, the tag list, sheets and PNGs."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from chalicelib.studio.app import create_app
from chalicelib.tryon.sheets import PER_PAGE
from chalicelib.tryon.tags import read_tag
from devtools.process import forget_process_state
from devtools.seed import DemoDrop
from tests.studio.conftest import AUTH


def test_the_tag_list_holds_every_sku_and_size_at_the_pop_up(studio: TestClient, demo: list[DemoDrop]) -> None:
    response = studio.get("/studio/api/drops/linen-lab/qr-tags?popup=paris-marais", headers=AUTH)
    assert response.status_code == 200
    tags = response.json()
    catalog = demo[0].catalog
    assert [(t["sku"], t["size"]) for t in tags] == [(s.sku, size) for s in catalog.skus for size in s.sizes]
    for entry in tags:
        assert entry["url"].startswith("https://shop.example.com/t/")
        tag = read_tag(entry["url"].rsplit("/", 1)[1])
        assert (tag.popup, tag.sku, tag.size) == ("paris-marais", entry["sku"], entry["size"])
    assert all("price" not in str(entry) for entry in tags)


def test_the_sheet_is_one_a4_page_of_labels_and_says_how_many_pages(studio: TestClient) -> None:
    response = studio.get("/studio/drops/linen-lab/qr-sheet.svg?popup=paris-marais", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["x-sheet-pages"] == "3"  # 52 tags, 24 a page
    svg = response.text
    assert svg.startswith("<svg") and 'width="210.0mm" height="297.0mm"' in svg
    assert svg.count("<g data-sku=") == PER_PAGE
    last = studio.get("/studio/drops/linen-lab/qr-sheet.svg?popup=paris-marais&page=3", headers=AUTH)
    assert last.text.count("<g data-sku=") == 52 - 2 * PER_PAGE


def test_the_sheets_page_links_every_page_and_prints_them_together(studio: TestClient) -> None:
    drop_page = studio.get("/studio/drops/linen-lab", headers=AUTH).text
    assert 'href="/studio/drops/linen-lab/qr-sheets?popup=paris-marais"' in drop_page
    page = studio.get("/studio/drops/linen-lab/qr-sheets?popup=paris-marais", headers=AUTH)
    assert page.status_code == 200 and "52 tags (every SKU and size of linen-lab) on 3 A4 pages" in page.text
    for n in (1, 2, 3):
        url = f"/studio/drops/linen-lab/qr-sheet.svg?popup=paris-marais&amp;page={n}"
        assert f'<img src="{url}" alt="QR tag sheet, page {n} of 3"' in page.text
        assert f'<a href="{url}" download="linen-lab-paris-marais-tags-{n}.svg">Page {n} of 3</a>' in page.text
    assert "page=4" not in page.text and "Print from the browser" in page.text
    pdf = 'href="/studio/drops/linen-lab/qr-sheets.pdf?popup=paris-marais" download="linen-lab-paris-marais-tags.pdf"'
    assert pdf in page.text and "Download all 3 pages as one PDF" in page.text
    assert studio.get("/studio/drops/linen-lab/qr-sheets?popup=nowhere", headers=AUTH).status_code == 404


def test_a_tags_png_is_a_png(studio: TestClient) -> None:
    response = studio.get("/studio/api/drops/linen-lab/qr-tags/OVR-SAND/M.png?popup=paris-marais", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        ("/studio/api/drops/linen-lab/qr-tags?popup=paris-marais", {}, 401, "not_logged_in"),
        (
            "/studio/api/drops/linen-lab/qr-tags?popup=paris-marais",
            {"Authorization": "Bearer wrong"},
            401,
            "invalid_token",
        ),
        ("/studio/api/drops/linen-lab/qr-tags", AUTH, 400, "invalid_query"),
        ("/studio/api/drops/linen-lab/qr-tags?popup=Not%20A%20Slug", AUTH, 400, "invalid_query"),
        ("/studio/api/drops/linen-lab/qr-tags?popup=web", AUTH, 404, "popup_not_found"),
        ("/studio/api/drops/no-such-drop/qr-tags?popup=paris-marais", AUTH, 404, "drop_not_found"),
        ("/studio/drops/linen-lab/qr-sheet.svg?popup=paris-marais&page=4", AUTH, 404, "page_not_found"),
        ("/studio/drops/linen-lab/qr-sheet.svg?popup=paris-marais&page=0", AUTH, 400, "invalid_query"),
        ("/studio/api/drops/linen-lab/qr-tags/OVR-SAND/XXL.png?popup=paris-marais", AUTH, 404, "tag_not_found"),
    ],
)
def test_bad_studio_requests_get_a_clear_4xx(
    studio: TestClient, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = studio.get(path, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_without_a_configured_token_the_studio_refuses_everyone(demo: list[DemoDrop]) -> None:
    forget_process_state()
    with TestClient(create_app()) as client:
        response = client.get("/studio/api/drops/linen-lab/qr-tags?popup=paris-marais", headers=AUTH)
    assert response.status_code == 401


def test_the_sheets_pdf_is_every_page_as_one_download(studio: TestClient) -> None:
    response = studio.get("/studio/drops/linen-lab/qr-sheets.pdf?popup=paris-marais", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="linen-lab-paris-marais-tags.pdf"'
    assert response.headers["x-sheet-pages"] == "3" and re.findall(rb"/Count (\d+)", response.content) == [b"3"]
    assert studio.get("/studio/drops/linen-lab/qr-sheets.pdf?popup=paris-marais").status_code == 401
    assert studio.get("/studio/drops/linen-lab/qr-sheets.pdf?popup=nowhere", headers=AUTH).status_code == 404
