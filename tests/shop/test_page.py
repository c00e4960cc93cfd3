"""The landing template's honest cues, rendered from a view (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.catalog.reader import StockSnapshot
from chalicelib.pages.environment import environment, template
from chalicelib.pricing.offers import Pricer
from chalicelib.shop.page import PageLocale, chip_units, landing_context, units_left_words
from chalicelib.shop.storefront import build_drop_view
from devtools.seed import demo_drops

DEMO = demo_drops(datetime(2030, 1, 1, tzinfo=UTC))[0]
NOW = DEMO.catalog.drop.starts_at


def render(left_share: float, urgency: str) -> str:
    return template("en", "landing.html").render(demo_context(left_share, urgency))


def demo_context(left_share: float, urgency: str) -> dict[str, Any]:
    """The demo drop's landing context, in English, with this share of its stock left."""
    made = {(r.sku, r.size, r.location): r.on_hand for r in DEMO.stock}
    on_hand: dict[tuple[str, str], int] = {}
    for (sku, _, location), units in made.items():
        on_hand[sku, location] = on_hand.get((sku, location), 0) + units
    available = {key: int(units * left_share) for key, units in made.items()}
    market = DEMO.catalog.drop.markets[0]
    pricer = Pricer(None, False, market.currency, "visitor", ("visit:new",), None, 0, NOW, "view", False)
    view = build_drop_view(DEMO.catalog, StockSnapshot(available, on_hand), market, pricer, NOW, urgency)
    where = PageLocale("en", "Europe/Paris", "https://shop.example/drops/linen-lab", ("en",))
    return landing_context(view, where, "n")


@pytest.mark.parametrize(("left_share", "shown"), [(1.0, False), (0.8, False), (0.5, True), (0.1, True)])
def test_scarcity_line_only_when_it_is_true(left_share: float, shown: bool) -> None:
    assert ('data-urgency="scarcity"' in render(left_share, "scarcity")) is shown


def test_no_urgency_for_the_control_cell() -> None:
    assert "data-urgency" not in render(0.1, "none")


@pytest.mark.parametrize("locale", ["en", "fr", "de", "es", "ja", "ar"])
def test_a_chips_units_left_read_as_the_templates_ngettext_would(locale: str) -> None:
    """Worked out once per locale in Python (a page has dozens of chips), in each plural form."""
    said = environment(locale).from_string('{{ ngettext("%(num)d left", "%(num)d left", n) }}')
    assert list(units_left_words(locale, 12)) == [said.render(n=n) for n in range(13)]


def test_a_chips_units_read_back_as_written() -> None:
    context = demo_context(0.5, "scarcity")
    for product in context["view"].products:
        places = context["places"](product)
        for size, at in context["units_at"](product, places).items():
            assert chip_units(at) == {place.id: place.units[size] for place in places}
    assert chip_units("") == {}


def test_a_cards_own_json_ld_block_is_its_node_in_the_pages_graph() -> None:
    """The shipped page has one graph; a marketer's template may still give each card its block."""
    context = demo_context(0.5, "scarcity")
    graph = context["drop_ld"]()
    assert graph["@context"] == "https://schema.org"
    products = context["view"].products
    assert [node["sku"] for node in graph["@graph"]] == [product.sku.sku for product in products]
    for product, node in zip(products, graph["@graph"], strict=True):
        assert context["product_ld"](product) == {"@context": "https://schema.org", **node}
