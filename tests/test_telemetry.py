"""One structured log line per request with a correlation id, and a PageView metric per landing page."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib.telemetry import logger


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What the powertools logger writes (its handler keeps the stdout it was built with)."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    yield buffer


def test_one_log_line_per_request_with_correlation_id(client: Client, log: io.StringIO) -> None:
    client.http.get("/api/drops/linen-lab")
    client.http.get("/healthz")
    requests = [entry for entry in lines(log.getvalue()) if entry.get("message") == "request"]
    assert len(requests) == 2
    first = requests[0]
    assert first["correlation_id"] and first["correlation_id"] != requests[1]["correlation_id"]
    assert first["http"] == {"method": "GET", "path": "/api/drops/{slug}", "status": 200}
    assert first["dynamodb"]["calls"] >= 1  # type: ignore[index]


def test_page_view_metric_has_the_drop_dimension(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    client.http.get("/drops/linen-lab")
    metrics = [entry for entry in lines(capsys.readouterr().out) if "_aws" in entry]
    page_views = [m for m in metrics if "PageView" in m]
    assert len(page_views) == 1
    emf = page_views[0]
    assert emf["drop"] == "linen-lab"
    dimension_sets = emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"]  # type: ignore[index]
    assert [set(dimensions) for dimensions in dimension_sets] == [{"drop", "page", "service"}]


def test_errors_are_logged_with_their_code(client: Client, log: io.StringIO) -> None:
    client.http.get("/drops/nope")
    entries = lines(log.getvalue())
    refused = [e for e in entries if e.get("message") == "request refused"]
    assert refused and refused[0]["error_code"] == "drop_not_found"
