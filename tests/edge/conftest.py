"""The local edge in front of the app (Chalice's test client), with its KeyValueStore filled as the
sweep fills it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.core.tokens import signing_keys
from chalicelib.edge.segment import edge_keys
from chalicelib.edge.sync import sync_edge
from devtools.local_edge import Edge, Origin


def chalice_origin(client: Client) -> Origin:
    """The app through Chalice's test client, one request at a time (as one Lambda instance)."""
    turn = threading.Lock()

    def send(
        method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        with turn:
            answer = client.http.request(method, target, headers=headers, body=body)
        pairs = [
            (name, item)
            for name, value in answer.headers.items()
            for item in (value if isinstance(value, list) else [value])
        ]
        return answer.status_code, pairs, answer.body

    return send


@pytest.fixture
def edge(client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    store = tmp_path / "edge-store.json"
    monkeypatch.setenv("DROPFRONT_EDGE_STORE_FILE", str(store))
    settings.cache_clear()
    wiring.edge_store.cache_clear()
    edge_store = wiring.edge_store()
    assert edge_store is not None
    sync_edge(edge_store, edge_keys(signing_keys()), wiring.catalog(), wiring.utcnow())
    running = Edge(chalice_origin(client), store)
    yield running
    running.function.close()
