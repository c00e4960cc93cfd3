"""Shared fixtures: a clean environment, moto (in-process) with the demo drops, and the Chalice client."""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.core.audit import AuditEntry
from chalicelib.store.client import dynamodb
from devtools.embedded_dynamodb import FAKE_CREDENTIALS, answer_items_as_json
from devtools.process import forget_process_state
from devtools.seed import DemoDrop, ensure_table, seed, verify_sender

TABLE = "dropfront-test"
SECRET = "test-key-newest"
LOCALES = ("en", "fr", "de", "es", "ja", "ar")

answer_items_as_json()  # moto in-process answers items as the embedded server does


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups into the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (`make test` runs a worker per core), each module's tests stay on one worker, so
    its module fixtures (live apps, the CDK synthesis) start once; the modules that build the Lambda
    package share one, since `chalice package` writes into the project directory."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        group = "lambda-package" if "lambda_package" in fixtures else item.nodeid.partition("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`chalice package` output with its zip finished (bytecode, pruning): built once per run for the
    packaging tests and the CDK app's synthesis."""
    from devtools.package import build

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this run's, every worker's
    out, built = shared / "lambda-package" / "out", shared / "lambda-package" / "built"
    with (shared / "lambda-package.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # never two `chalice package` runs at once: they share its cache
        if not built.exists():
            build(out, stage="prod")
            built.touch()
    return out


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts with the same settings and no cached clients, catalogs or keys."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DROPFRONT_TABLE", TABLE)
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", SECRET)
    monkeypatch.setenv("DROPFRONT_STAGE", "test")
    monkeypatch.setenv("DROPFRONT_STOCK_CACHE_SECONDS", "0")
    monkeypatch.delenv("DROPFRONT_DYNAMODB_ENDPOINT", raising=False)
    monkeypatch.delenv("DROPFRONT_EDGE_STORE_FILE", raising=False)
    monkeypatch.delenv("DROPFRONT_EDGE_STORE_ARN", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "dropfront")
    forget_process_state()
    yield
    forget_process_state()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def seeded_at() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def demo(aws: None, seeded_at: datetime) -> list[DemoDrop]:
    fresh = ensure_table(dynamodb(), TABLE)
    verify_sender()
    return seed(TABLE, seeded_at, fresh=fresh)


@pytest.fixture
def client(demo: list[DemoDrop], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """Chalice's test client, given no .chalice/config.json: it would otherwise swap os.environ for a
    deploy stage's variables during every request."""
    from app import app

    with Client(app, project_dir=str(tmp_path_factory.mktemp("no-chalice-config"))) as test_client:
        yield test_client


def earlier_today(zone: ZoneInfo, minutes: float) -> datetime:
    """``minutes`` ago in ``zone``, but not before its midnight: a reading or a sale a test sends
    must fall on the local day the code reads as today, whatever time the suite runs."""
    now = datetime.now(zone).replace(microsecond=0)
    return max(now - timedelta(minutes=minutes), now.replace(hour=0, minute=0, second=0))


def json_of(response: Any) -> Any:
    return json.loads(response.body)


def html_of(response: Any) -> str:
    body: bytes = response.body
    return body.decode("utf-8")


def scan_claim_of(page: Any) -> str:
    """The scan claim a tag's page carries for its visitor (what the page's script sends with a try-on)."""
    found = re.search(r'data-scan="([^"]+)"', html_of(page))
    assert found, "the tag's page carries no scan claim"
    return found.group(1)


def delivery(before: int, after: int) -> AuditEntry:
    """The audit entry a test's restock writes (the studio writes its own, in words)."""
    return AuditEntry("linen-lab", "test", "stock", f"{before} → {after}", "2026-12-05T12:00:00Z")
