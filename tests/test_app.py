"""The shopper routes, end to end through Chalice's test client against moto."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core.tokens import Purpose, verify
from chalicelib.shop.page import chip_units
from devtools.process import forget_process_state
from devtools.seed import DemoDrop
from tests.conftest import LOCALES, html_of, json_of

SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy")

ROOT = Path(__file__).resolve().parent.parent


class LandingParser(HTMLParser):
    """Collects what the contract promises on the landing page: html attributes, data-*, JSON-LD."""

    def __init__(self) -> None:
        super().__init__()
        self.html_attrs: dict[str, str | None] = {}
        self.sizes: list[dict[str, str | None]] = []
        self.json_ld: list[dict[str, Any]] = []
        self._in_ld = False
        self.ld_blocks = 0
        self.scripts_without_nonce = 0
        self._card: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_attrs = attributes
        if tag == "li" and attributes.get("class") == "card":
            self._card = attributes
        if tag == "label" and "pick" in str(attributes.get("class")).split():  # a size chip: its card
            self.sizes.append({**self._card, **attributes})  # says which piece and at what price
        if tag == "input" and attributes.get("name") == "size" and self.sizes and "size" not in self.sizes[-1]:
            self.sizes[-1]["size"] = attributes["value"]  # the chip's radio: the size it picks
        if tag == "script":
            self._in_ld = attributes.get("type") == "application/ld+json"
            if not self._in_ld and "nonce" not in attributes:
                self.scripts_without_nonce += 1

    def handle_data(self, data: str) -> None:
        if self._in_ld:  # the page's one graph: a schema.org Product per product
            graph = json.loads(data)
            assert graph["@context"] == "https://schema.org"
            self.json_ld.extend(graph["@graph"])
            self.ld_blocks += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_ld = False


def parse(html: str) -> LandingParser:
    parser = LandingParser()
    parser.feed(html)
    return parser


def test_healthz(client: Client) -> None:
    response = client.http.get("/healthz")
    assert response.status_code == 200
    assert json_of(response) == {"status": "ok"}


def test_list_drops_shows_teaser_and_live_with_contract_fields(client: Client) -> None:
    response = client.http.get("/api/drops")
    assert response.status_code == 200
    drops = {d["slug"]: d for d in json_of(response)}
    assert drops["linen-lab"]["status"] == "live"
    assert drops["winter-knit"]["status"] == "teaser"
    for drop in drops.values():
        assert set(drop) == {"slug", "name", "status", "starts_at", "ends_at"}
        assert drop["starts_at"].endswith("Z")


@pytest.mark.parametrize("locale", LOCALES)
def test_landing_page_in_every_locale(client: Client, locale: str, demo: list[DemoDrop]) -> None:
    response = client.http.get(f"/drops/linen-lab?lang={locale}")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == locale
    page = parse(html_of(response))
    assert page.html_attrs["lang"] == locale
    assert page.html_attrs["dir"] == ("rtl" if locale == "ar" else "ltr")
    catalog = demo[0].catalog
    assert page.ld_blocks == 1 and len(page.json_ld) == len(catalog.skus)
    assert all(node["@type"] == "Product" for node in page.json_ld)
    expected_name = catalog.skus[0].name[locale]
    assert page.json_ld[0]["name"] == expected_name


@pytest.mark.parametrize(
    ("accept_language", "country", "locale", "currency"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", None, "de", "EUR"),
        ("ja", None, "ja", "JPY"),
        ("ar-AE", None, "ar", "AED"),
        ("es-MX,es;q=0.8", None, "es", "EUR"),
        (None, "FR", "fr", "EUR"),
        (None, None, "en", "USD"),
        ("xx-YY", "JP", "ja", "JPY"),
        ("en-US", "JP", "en", "JPY"),  # the country picks the market, the visitor the language
    ],
)
def test_locale_and_market_negotiation(
    client: Client, accept_language: str | None, country: str | None, locale: str, currency: str
) -> None:
    headers = {}
    if accept_language:
        headers["Accept-Language"] = accept_language
    if country:
        headers["CloudFront-Viewer-Country"] = country
    body = json_of(client.http.get("/api/drops/linen-lab", headers=headers))
    assert body["drop"]["locale"] == locale
    assert {p["offer"]["currency"] for p in body["products"]} == {currency}


def test_lang_query_beats_accept_language(client: Client) -> None:
    response = client.http.get("/drops/linen-lab?lang=fr", headers={"Accept-Language": "de"})
    assert response.headers["Content-Language"] == "fr"


def test_money_is_formatted_per_locale_from_minor_units(client: Client, demo: list[DemoDrop]) -> None:
    sku = demo[0].catalog.skus[0]
    fr = html_of(client.http.get("/drops/linen-lab?lang=fr"))
    ja = html_of(client.http.get("/drops/linen-lab?lang=ja"))
    euros = sku.list_prices["EUR"] // 100
    assert f"{euros},00\u00a0€" in fr
    yen = sku.list_prices["JPY"]
    assert f"￥{yen:,}" in ja


def test_landing_page_data_attributes_and_json_ld_match_stock(client: Client, demo: list[DemoDrop]) -> None:
    page = parse(html_of(client.http.get("/drops/linen-lab")))
    stock: dict[tuple[str, str], int] = {}  # what can be reserved: the units at the pop-ups
    for r in demo[0].stock:
        if r.location != "web":
            stock[(r.sku, r.size)] = stock.get((r.sku, r.size), 0) + r.on_hand
    prices = {s.sku: s.list_prices["USD"] for s in demo[0].catalog.skus}
    assert len(page.sizes) == len(stock)
    offers = {str(ld["sku"]): ld["offers"] for ld in page.json_ld}
    for size in page.sizes:
        key = (str(size["data-sku"]), str(size["size"]))
        assert sum(chip_units(str(size["data-at"])).values()) == stock[key]
        price = int(str(size["data-price-minor"]))
        assert f"{price / 100:.2f}" == offers[key[0]]["price"]  # the page and its JSON-LD agree
        assert price <= prices[key[0]]
    assert offers["TRS-STONE"]["availability"] == "https://schema.org/InStoreOnly"  # only a pop-up has it
    assert offers["OVR-SAND"]["priceCurrency"] == "USD"
    assert offers["TOTE-ECRU"]["price"] == f"{prices['TOTE-ECRU'] / 100:.2f}"  # discounts disabled by override


def test_scarcity_shows_exact_count_only_under_threshold(client: Client, demo: list[DemoDrop]) -> None:
    html = html_of(client.http.get("/drops/linen-lab"))
    threshold = demo[0].catalog.drop.scarcity_threshold
    chips = re.findall(r'class="size (\w+) pick"[^>]*data-at="([^"]*)"', html)
    assert len(chips) == sum(len(sku.sizes) for sku in demo[0].catalog.skus)
    for cue, at in chips:
        units = sum(chip_units(at).values())
        expected = "sold_out" if units == 0 else "few_left" if units <= threshold else "in_stock"
        assert cue == expected
    assert "1 left" in html  # OVR-SAND XS: one at the pop-ups
    assert "7 left" not in html  # TEE-ECRU M: four in Paris and three in Brooklyn, over the threshold


def test_html_security_headers_and_nonce_only_scripts(client: Client) -> None:
    response = client.http.get("/drops/winter-knit")  # the teaser page carries the countdown script
    for header in SECURITY_HEADERS:
        assert header in response.headers
    csp = response.headers["Content-Security-Policy"]
    style, script = re.search(r"style-src 'nonce-([^']+)'", csp), re.search(r"script-src 'nonce-([^']+)'", csp)
    assert style and script and "unsafe-inline" not in csp
    assert style.group(1) != script.group(1)  # marketers' templates see the style nonce, never the script's
    html = html_of(response)
    assert f'<script nonce="{script.group(1)}">' in html and f'<style nonce="{style.group(1)}">' in html
    assert parse(html).scripts_without_nonce == 0
    assert 'style="' not in html  # inline style attributes would be blocked by the CSP
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path", ["/healthz", "/api/drops", "/api/drops/linen-lab", "/api/drops/linen-lab/stock"])
def test_json_routes_carry_security_headers(client: Client, path: str) -> None:
    response = client.http.get(path)
    for header in SECURITY_HEADERS:
        assert header in response.headers


def test_visitor_cookie_is_set_once_signed_and_secure(client: Client) -> None:
    first = client.http.get("/drops/linen-lab")
    cookie = first.headers["Set-Cookie"]
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} <= {p.strip() for p in cookie.split(";")}
    token = cookie.split(";")[0].split("=", 1)[1]
    visitor_id = verify(Purpose.VISITOR, token)["v"]
    again = client.http.get("/drops/linen-lab", headers={"Cookie": f"dfv={token}"})
    assert "Set-Cookie" not in again.headers
    api = client.http.get("/api/drops/linen-lab", headers={"Cookie": f"other=1; dfv={token}"})
    offer_token = json_of(api)["products"][0]["offer"]["offer_token"]
    assert verify(Purpose.OFFER, offer_token)["v"] == visitor_id


def test_tampered_cookie_makes_a_new_anonymous_visitor(client: Client) -> None:
    token = client.http.get("/drops/linen-lab").headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.http.get("/drops/linen-lab", headers={"Cookie": f"dfv={tampered}"})
    assert response.status_code == 200
    assert "Set-Cookie" in response.headers


def test_drop_detail_matches_the_contract(client: Client, demo: list[DemoDrop]) -> None:
    body = json_of(client.http.get("/api/drops/linen-lab"))
    assert set(body["drop"]) >= {"slug", "name", "status", "starts_at", "ends_at"}
    assert [loc["kind"] for loc in body["locations"]] == ["web", "popup", "popup"]
    assert {loc["id"] for loc in body["locations"]} == {"web", "paris-marais", "brooklyn"}
    product = body["products"][0]
    assert set(product["offer"]) == {
        "currency",
        "list_minor",
        "price_minor",
        "discount_bps",
        "rules",
        "decision_id",
        "offer_token",
        "expires_at",
        "reference_minor",
        "personalized",
    }
    assert isinstance(product["offer"]["price_minor"], int)
    first_size = product["sizes"][0]
    assert set(first_size["available"]) == {"web", "paris-marais", "brooklyn"}
    expected = {r.location: r.on_hand for r in demo[0].stock if (r.sku, r.size) == (product["sku"], first_size["size"])}
    assert first_size["available"] == expected


def test_stock_route_is_live_stock_only(client: Client, demo: list[DemoDrop]) -> None:
    response = client.http.get("/api/drops/linen-lab/stock")
    body = json_of(response)
    assert response.headers["Cache-Control"] == "public, max-age=1"
    assert body["status"] == "live"
    totals = sum(n for p in body["products"] for s in p["sizes"] for n in s["available"].values())
    assert totals == sum(r.on_hand for r in demo[0].stock)
    assert "offer" not in body["products"][0]


def test_unknown_drop_is_a_localized_404_page(client: Client) -> None:
    response = client.http.get("/drops/no-such-drop", headers={"Accept-Language": "de"})
    assert response.status_code == 404
    assert response.headers["Content-Language"] == "de"
    assert "Diese Seite gibt es nicht" in html_of(response)
    api = client.http.get("/api/drops/no-such-drop")
    assert api.status_code == 404
    assert json_of(api)["error"]["code"] == "drop_not_found"
    assert client.http.get("/api/drops/no-such-drop/stock").status_code == 404


def test_unpublished_drop_is_not_found(client: Client, demo: list[DemoDrop]) -> None:
    from chalicelib.store.catalog import DynamoCatalog
    from tests.conftest import TABLE

    catalog = demo[1].catalog
    hidden = replace(catalog, drop=replace(catalog.drop, published=False))
    DynamoCatalog(TABLE).put_drop_catalog(hidden)
    assert client.http.get("/drops/winter-knit").status_code == 404
    assert "winter-knit" not in {d["slug"] for d in json_of(client.http.get("/api/drops"))}


def test_settings_read_during_a_request_are_the_processs_own(client: Client) -> None:
    """Regression: Chalice's test client must not swap in a deploy stage's environment."""
    from chalicelib.config import settings
    from tests.conftest import TABLE

    forget_process_state()
    assert client.http.get("/api/drops").status_code == 200
    assert settings().table_name == TABLE


def test_alternate_and_canonical_links_are_absolute(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    html = html_of(client.http.get("/drops/linen-lab?lang=de", headers={"Host": "evil.example/<x>"}))
    assert '<link rel="canonical" href="https://localhost/drops/linen-lab?lang=de">' in html  # odd Host refused
    assert 'hreflang="x-default" href="https://localhost/drops/linen-lab"' in html
    monkeypatch.setenv("DROPFRONT_PUBLIC_URL", "https://shop.example/")

    forget_process_state()
    html = html_of(client.http.get("/drops/linen-lab?lang=de"))
    assert 'hreflang="ja" href="https://shop.example/drops/linen-lab?lang=ja"' in html
    # The bare URL (what a link or a QR code opens) is the x-default page, and its own canonical.
    bare = html_of(client.http.get("/drops/linen-lab", headers={"Accept-Language": "fr"}))
    assert '<link rel="canonical" href="https://shop.example/drops/linen-lab">' in bare


@pytest.mark.parametrize("locale", LOCALES)
def test_every_json_route_in_every_locale(client: Client, locale: str, demo: list[DemoDrop]) -> None:
    headers = {"Accept-Language": locale}
    drops = json_of(client.http.get("/api/drops", headers=headers))
    assert {d["name"] for d in drops} == {d.catalog.drop.name[locale] for d in demo}
    detail = client.http.get("/api/drops/linen-lab", headers=headers)
    assert detail.headers["Content-Language"] == locale
    assert json_of(detail)["products"][0]["name"] == demo[0].catalog.skus[0].name[locale]
    assert client.http.get("/api/drops/linen-lab/stock", headers=headers).status_code == 200
    missing = client.http.get("/drops/missing-drop", headers=headers)
    assert missing.status_code == 404 and missing.headers["Content-Language"] == locale


def test_stock_polls_get_304_until_the_stock_changes(client: Client) -> None:
    first = client.http.get("/api/drops/linen-lab/stock")
    etag = first.headers["ETag"]
    again = client.http.get("/api/drops/linen-lab/stock", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.body == b"" and again.headers["ETag"] == etag
    wanted = {"drop": "linen-lab", "popup": "paris-marais", "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}]}
    cookie = client.http.get("/drops/linen-lab").headers["Set-Cookie"].split(";")[0]
    headers = {"Content-Type": "application/json", "Cookie": cookie}
    assert client.http.post("/api/holds", headers=headers, body=json.dumps(wanted)).status_code == 201
    changed = client.http.get("/api/drops/linen-lab/stock", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_each_product_has_a_picture_sized_for_phones_and_in_its_json_ld(client: Client, demo: list[DemoDrop]) -> None:
    html = html_of(client.http.get("/drops/linen-lab", headers={"Host": "shop.example", "X-Forwarded-Proto": "https"}))
    pictures = re.findall(
        r'<img class="photo" src="([^"]+)" srcset="([^"]+)" sizes="[^"]+" width="720" height="540"', html
    )
    skus = demo[0].catalog.skus
    assert len(pictures) == len(skus)
    for src, srcset in pictures:
        assert src.startswith("/media/demo/products/") and src.endswith("-720.webp")
        for candidate in srcset.split(", "):
            path, width = candidate.split(" ")
            assert (ROOT / "media" / path.removeprefix("/media/")).is_file() and width in ("360w", "720w")
    assert html.count('loading="lazy"') == len(skus) - 1 and html.count('fetchpriority="high"') == 1
    ld = {str(item["sku"]): item for item in parse(html).json_ld}
    assert ld["OVR-SAND"]["image"] == "https://shop.example/media/demo/products/ovr-sand-720.webp"


def test_importing_the_app_loads_no_writers_records() -> None:
    """A cold start pays most of a millisecond of CPU per record class it defines: the shopper
    function's import leaves out the stock port's and the outbox's (what writers and mailers use),
    which a hold or a booking loads when it is made."""
    probe = "import sys, app; print(*sorted(m for m in sys.modules if m.startswith('chalicelib')))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    modules = set(loaded.stdout.split())
    assert "chalicelib.store.catalog" in modules  # the probe sees what the app imports
    assert not modules & {"chalicelib.stock.ports", "chalicelib.outbox.ports", "chalicelib.studio"}
