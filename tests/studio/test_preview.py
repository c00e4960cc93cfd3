"""Previewing a version as a chosen shopper: locale, tier, cohort, experiment cell and pop-up, for the
landing, try-on and pickup pages; nothing is recorded."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from chalicelib import wiring
from tests.studio.conftest import AUTH, log_in

PREVIEW = "/studio/templates/{}/preview"


def preview(studio: TestClient, name: str, **query: str) -> str:
    response = studio.get(PREVIEW.format(name), headers=AUTH, params={"drop": "linen-lab", **query})
    assert response.status_code == 200, response.text
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    return response.text


def test_a_forced_cell_or_tier_changes_the_previewed_prices(studio: TestClient) -> None:
    control = preview(studio, "landing", cell="launch-depth:control")
    five_off = preview(studio, "landing", cell="launch-depth:five-off")
    gold = preview(studio, "landing", tier="gold", cell="launch-depth:control")
    assert "$114.00" in five_off and "$114.00" not in control  # the overshirt, 5 % off $120
    assert "$108.00" in gold  # 10 % off for gold


def test_the_pop_up_preview_prices_in_the_pop_ups_market(studio: TestClient) -> None:
    page = preview(studio, "tryon", popup="paris-marais", lang="fr", cell="launch-depth:control")
    assert 'lang="fr"' in page and "€" in page


def test_the_pickup_page_previews_a_sample_booking(studio: TestClient) -> None:
    page = preview(studio, "pickup", popup="brooklyn")
    assert "PREVIEW1" in page


def test_a_preview_records_nothing(studio: TestClient) -> None:
    preview(studio, "tryon", popup="paris-marais")
    preview(studio, "landing")
    assert wiring.tryons().funnel("linen-lab") == {}
    assert wiring.numbers().counts("linen-lab") == {}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"cell": "launch-depth:ninety-off"}, 422),
        ({"popup": "atlantis"}, 422),
        ({"tier": "GOLD!"}, 400),
        ({"drop": "nope"}, 404),
        ({"lang": "xx"}, 400),  # a language no page is written in (it was a 500)
    ],
)
def test_a_preview_of_something_that_does_not_exist_is_a_clear_4xx(
    studio: TestClient, query: dict[str, str], status: int
) -> None:
    response = studio.get(PREVIEW.format("tryon"), headers=AUTH, params={"drop": "linen-lab", **query})
    assert response.status_code == status and response.json()["error"]["message"]


def test_the_editor_offers_the_drops_segments_cells_and_pop_ups(studio: TestClient) -> None:
    page = studio.get("/studio/templates/tryon?drop=linen-lab&cell=launch-depth:five-off", headers=log_in(studio)).text
    for option in ("<option>gold</option>", "<option>ana</option>", "<option>paris-marais</option>"):
        assert option in page
    assert "<option selected>launch-depth:five-off</option>" in page
    assert "cell=launch-depth%3Afive-off" in page  # the frame previews the chosen cell


def test_the_preview_forms_empty_choices_mean_anyone(studio: TestClient) -> None:
    page = studio.get("/studio/templates/landing?v=0&lang=fr&drop=&tier=&cohort=&cell=&popup=", headers=log_in(studio))
    assert page.status_code == 200 and "preview?v=0&amp;lang=fr" in page.text


def test_a_bad_query_is_an_html_error_page_for_a_browser(studio: TestClient) -> None:
    page = studio.get("/studio/templates/landing?tier=NOT+A+TIER", headers=log_in(studio) | {"Accept": "text/html"})
    assert page.status_code == 400 and 'data-field="tier"' in page.text and "<h1>" in page.text
