"""DynamoDB engines over a real socket: moto's server (atomic per request) and dynalite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from chalicelib.store.client import dynamodb
from devtools.dynalite import dynalite
from devtools.embedded_dynamodb import EmbeddedDynamoDB
from devtools.process import forget_process_state
from devtools.seed import ensure_table


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    with EmbeddedDynamoDB() as server:
        yield server.endpoint


@pytest.fixture(scope="session")
def dynalite_server() -> Iterator[str]:
    with dynalite() as endpoint:
        yield endpoint


def use_endpoint(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> str:
    """Point the app at ``endpoint`` with a fresh table of its own; returns the table name."""
    table = f"t-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("DROPFRONT_DYNAMODB_ENDPOINT", endpoint)
    monkeypatch.setenv("DROPFRONT_TABLE", table)
    forget_process_state()
    ensure_table(dynamodb(), table)
    return table


@pytest.fixture(params=["moto", "dynalite"])
def single_item_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both engines, for the single-item conditional paths (holds, till sales)."""
    endpoint = request.getfixturevalue(f"{request.param}_server")
    return use_endpoint(monkeypatch, endpoint)


@pytest.fixture
def moto_table(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's server only, for transactions (dynalite has none)."""
    return use_endpoint(monkeypatch, moto_server)
