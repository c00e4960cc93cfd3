"""A warm landing page view makes at most one DynamoDB request (DESIGN.md target)."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.store.client import dynamodb


def count_requests() -> list[str]:
    seen: list[str] = []

    def record(model: Any, **_: Any) -> None:
        seen.append(model.name)

    dynamodb().meta.events.register("before-call.dynamodb", record)
    return seen


def test_warm_view_makes_one_request_and_it_is_the_stock_query(client: Client) -> None:
    client.http.get("/drops/linen-lab")  # cold: catalog and stock
    seen = count_requests()
    for locale in ("en", "fr", "ar"):
        assert client.http.get(f"/drops/linen-lab?lang={locale}").status_code == 200
    assert seen == ["Query", "Query", "Query"]


def test_micro_cached_stock_makes_warm_views_free(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_STOCK_CACHE_SECONDS", "1")
    wiring.reset()
    client.http.get("/drops/linen-lab")
    seen = count_requests()
    client.http.get("/drops/linen-lab")
    assert len(seen) <= 1  # zero within the second, one if the cache just expired
