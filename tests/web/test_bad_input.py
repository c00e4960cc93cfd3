"""Bad input gets its proper status with the error envelope (JSON) or a localized page (HTML); never a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import html_of, json_of


@pytest.mark.parametrize(
    "query",
    [
        "lang=%3Cscript%3E",
        "lang=" + "a" * 40,
        "lang=en--",
        "lang=12",
        "x=" + "y" * 3000,
        "&".join(f"p{i}=1" for i in range(40)),
    ],
)
def test_malformed_query_is_a_localized_400(client: Client, query: str) -> None:
    html = client.http.get(f"/drops/linen-lab?{query}", headers={"Accept-Language": "es"})
    assert html.status_code == 400
    assert html.headers["Content-Language"] == "es"
    assert "Esa solicitud no parece correcta" in html_of(html)
    assert 'href="/drops/linen-lab?lang=es"' in html_of(html)  # the drop's page, without what broke it
    api = client.http.get(f"/api/drops/linen-lab?{query}")
    assert api.status_code == 400
    assert set(json_of(api)["error"]) >= {"code", "message"}


def test_a_drop_that_does_not_exist_offers_no_way_back_to_it(client: Client) -> None:
    html = client.http.get("/drops/no-such-drop?lang=fr")
    assert html.status_code == 404
    assert "/drops/no-such-drop" not in html_of(html)


def test_unsupported_but_well_formed_lang_falls_back(client: Client) -> None:
    response = client.http.get("/drops/linen-lab?lang=tlh", headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "fr"


def test_unknown_query_parameters_are_ignored(client: Client) -> None:
    assert client.http.get("/drops/linen-lab?utm_source=ig&fbclid=abc").status_code == 200


@pytest.mark.parametrize("slug", ["UPPER", "a" * 80, "-dash", "has.dot", "%00", "..", "%F0%9F%91%95"])
def test_odd_slugs_are_not_found(client: Client, slug: str) -> None:
    assert client.http.get(f"/drops/{slug}").status_code == 404
    assert client.http.get(f"/api/drops/{slug}").status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept-Language": "*;q=abc, ;;, en;q=2, de;q=-1"},
        {"Accept-Language": "x" * 5000},
        {"CloudFront-Viewer-Country": "ZZZ"},
        {"CloudFront-Viewer-Country": "1"},
        {"CloudFront-Viewer-Time-Zone": "../../etc/passwd"},
        {"CloudFront-Viewer-Time-Zone": "Mars/Olympus_Mons"},
        {"Cookie": "dfv=" + "A" * 5000},
        {"Cookie": "dfv=not.a.token; dfv=again"},
        {"Cookie": ";;=;"},
    ],
)
def test_odd_headers_are_tolerated(client: Client, headers: dict[str, str]) -> None:
    assert client.http.get("/drops/linen-lab", headers=headers).status_code == 200


@pytest.fixture
def micro_cached_stock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_STOCK_CACHE_SECONDS", "1")


@pytest.mark.usefixtures("micro_cached_stock")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from(["lang", "c", "q", "utm_source"]) | st.text(max_size=20),
    value=st.text(max_size=200),
    accept=st.text(max_size=100),
)
def test_fuzzed_queries_and_headers_never_fail_the_server(client: Client, key: str, value: str, accept: str) -> None:
    query = f"{quote(key, safe='')}={quote(value, safe='')}"
    headers = {"Accept-Language": accept.encode("latin-1", "ignore").decode("latin-1")}
    for path in ("/drops/linen-lab", "/api/drops/linen-lab", "/api/drops"):
        response = client.http.get(f"{path}?{query}", headers=headers)
        assert response.status_code in (200, 400), (path, query, response.body[:200])
