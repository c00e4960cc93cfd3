from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.catalog.reader import StockSnapshot
from chalicelib.core import records
from chalicelib.core.models import Sku
from chalicelib.pricing.offers import Pricer
from chalicelib.shop.storefront import build_drop_view, choose_market, scarcity_cue
from devtools.seed import demo_drops

DEMO = demo_drops(datetime(2030, 1, 1, tzinfo=UTC))[0]
NOW = DEMO.catalog.drop.starts_at


def list_pricer(currency: str) -> Pricer:
    return Pricer(
        policy=None,
        policy_failed=False,
        currency=currency,
        visitor_id="visitor-1",
        segments=("visit:new",),
        cell=None,
        hours_since_start=0,
        now=NOW,
        view_id="view",
        with_tokens=False,
    )


@given(units=st.integers(min_value=-3, max_value=100), threshold=st.integers(min_value=0, max_value=20))
def test_scarcity_cue_shows_counts_only_under_the_threshold(units: int, threshold: int) -> None:
    cue = scarcity_cue(units, threshold)
    assert (cue == "sold_out") == (units <= 0)
    assert (cue == "few_left") == (0 < units <= threshold)


def test_market_by_country_then_locale_then_default() -> None:
    catalog = DEMO.catalog
    assert choose_market(catalog, "AT", "fr").id == "de"
    assert choose_market(catalog, None, "ja").id == "jp"
    assert choose_market(catalog, "ZZ", "xx").id == catalog.drop.default_market.id


def test_view_counts_stock_per_location_and_online() -> None:
    snapshot = StockSnapshot({(r.sku, r.size, r.location): r.on_hand for r in DEMO.stock})
    view = build_drop_view(DEMO.catalog, snapshot, DEMO.catalog.drop.markets[1], list_pricer("EUR"), NOW)
    product = view.products[0]
    web = {(r.sku, r.size): r.on_hand for r in DEMO.stock if r.location == "web"}
    assert [s.online for s in product.sizes] == [web[(product.sku.sku, s.size)] for s in product.sizes]
    assert product.offer.currency == "EUR"
    assert product.offer.offer_token is None


def test_skus_without_a_price_in_the_market_currency_are_not_offered() -> None:
    sku = DEMO.catalog.skus[0]
    unpriced = replace(sku, list_prices={"USD": 100})
    catalog = replace(DEMO.catalog, skus=(unpriced, *DEMO.catalog.skus[1:]))
    view = build_drop_view(catalog, StockSnapshot(), catalog.drop.markets[4], list_pricer("JPY"), NOW)
    assert sku.sku not in {p.sku.sku for p in view.products}


def test_money_must_be_integer_minor_units() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        records.validate(Sku, {**records.dump(DEMO.catalog.skus[0]), "list_prices": {"EUR": 19.99}})
