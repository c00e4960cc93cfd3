"""A warm landing page view makes at most one DynamoDB request (docs/design.md target). A new visitor's
first view adds one more: the write that puts them in their experiment cells' samples."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.store.client import dynamodb
from devtools.process import forget_process_state


def count_requests() -> list[str]:
    seen: list[str] = []

    def record(model: Any, **_: Any) -> None:
        seen.append(model.name)

    dynamodb().meta.events.register("before-call.dynamodb", record)
    return seen


def returning_visitor(client: Client) -> dict[str, str]:
    first = client.http.get("/drops/linen-lab")  # cold: catalog and stock; a new visitor
    return {"Cookie": first.headers["Set-Cookie"].split(";")[0]}


def test_warm_view_makes_one_request_and_it_is_the_stock_query(client: Client) -> None:
    cookie = returning_visitor(client)
    seen = count_requests()
    for locale in ("en", "fr", "ar"):
        assert client.http.get(f"/drops/linen-lab?lang={locale}", headers=cookie).status_code == 200
    assert seen == ["Query", "Query", "Query"]


def test_a_new_visitors_first_view_adds_one_write_to_the_cell_samples(client: Client) -> None:
    returning_visitor(client)
    seen = count_requests()
    assert client.http.get("/drops/linen-lab").status_code == 200  # no cookie: a new visitor
    assert sorted(seen) == ["Query", "UpdateItem"]
    samples = wiring.numbers().counts("linen-lab")
    assert (
        sum(n for name, n in samples.items() if name.startswith("seen@")) == 2
    )  # two visitors, one cell each (the experiments share a group)


def test_micro_cached_stock_makes_warm_views_free(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_STOCK_CACHE_SECONDS", "1")
    forget_process_state()
    cookie = returning_visitor(client)
    seen = count_requests()
    client.http.get("/drops/linen-lab", headers=cookie)
    assert len(seen) <= 1  # zero within the second, one if the cache just expired
