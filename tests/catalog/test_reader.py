from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.catalog.ports import PopupDay, StockCounts
from chalicelib.catalog.reader import Catalog, drop_status
from chalicelib.core.errors import NotFound
from chalicelib.core.models import Drop, DropCatalog, DropStatus
from chalicelib.pricing.policy import PricingPolicy
from devtools.seed import demo_drops

DEMO = demo_drops(datetime(2030, 1, 1, tzinfo=UTC))


class CountingReader:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def drop_catalog(self, slug: str) -> DropCatalog | None:
        self.calls.append(f"catalog:{slug}")
        return next((d.catalog for d in DEMO if d.catalog.drop.slug == slug), None)

    def drops(self) -> list[Drop]:
        self.calls.append("drops")
        return [d.catalog.drop for d in DEMO]

    def current_pricing(self, slug: str) -> tuple[PricingPolicy | None, dict[str, int]]:
        self.calls.append(f"pricing:{slug}")
        return None, {}

    def available_stock(self, slug: str, generation: int) -> StockCounts:
        self.calls.append(f"stock:{slug}#g{generation}")
        return StockCounts({("X", "M", "web"): 2}, {("X", "web"): 4}, {("X", "web"): 1})

    def popup_day(self, slug: str, generation: int, popup: str, day: date) -> PopupDay:
        self.calls.append(f"day:{popup}@{day.isoformat()}")
        return PopupDay(footfall=120, till_units=6)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_catalog_is_cached_for_its_ttl_and_stock_for_its_own() -> None:
    reader, clock = CountingReader(), Clock()
    catalog = Catalog(reader, catalog_ttl=10, stock_ttl=1, monotonic=clock)
    drop = catalog.drop("linen-lab").drop
    catalog.stock(drop)
    clock.now += 0.9
    catalog.drop("linen-lab")
    catalog.stock(drop)
    assert reader.calls == ["catalog:linen-lab", "stock:linen-lab#g0"]
    clock.now += 0.2
    catalog.stock(drop)
    clock.now += 10
    catalog.drop("linen-lab")
    assert reader.calls[2:] == ["stock:linen-lab#g0", "catalog:linen-lab"]
    catalog.stock(replace(drop, generation=1))  # re-imported: the new generation's stock
    assert reader.calls[4:] == ["stock:linen-lab#g1"]


def test_unknown_drops_are_not_found_and_do_not_grow_the_cache_forever() -> None:
    reader = CountingReader()
    catalog = Catalog(reader, catalog_ttl=10, stock_ttl=1)
    for i in range(1000):
        with pytest.raises(NotFound):
            catalog.drop(f"nope-{i}")
    assert len(catalog._catalogs) <= 256


@given(
    offset=st.integers(min_value=-(10**7), max_value=10**7),
    units=st.integers(min_value=-5, max_value=500),
)
def test_lifecycle_is_a_function_of_time_and_stock(offset: int, units: int) -> None:
    drop = DEMO[0].catalog.drop
    now = drop.starts_at + timedelta(seconds=offset)
    status = drop_status(drop, now, units)
    if now < drop.starts_at:
        assert status is DropStatus.TEASER
    elif now >= drop.ends_at:
        assert status is DropStatus.ENDED
    else:
        assert status is (DropStatus.LIVE if units > 0 else DropStatus.SOLD_OUT)
