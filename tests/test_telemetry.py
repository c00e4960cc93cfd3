"""One structured log line per request with a correlation id, carrying the view's metrics (EMF)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from chalice.test import Client
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.telemetry import call_stats, log_json, logger, page_view


def lines(output: str) -> list[dict[str, Any]]:
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
    assert first["dynamodb"]["calls"] >= 1


def assert_emf(document: dict[str, Any]) -> None:
    """What CloudWatch needs to take metrics from a log line: every directive's dimensions are string
    members and its metrics number members of the same document, stamped in epoch milliseconds."""
    meta = document["_aws"]
    assert abs(meta["Timestamp"] - time.time() * 1000) < 60_000
    for directive in meta["CloudWatchMetrics"]:
        assert directive["Namespace"] == "dropfront"
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(document[name], str) and document[name] for name in dimension_set)
        for metric in directive["Metrics"]:
            assert metric["Unit"] == "Count" and isinstance(document[metric["Name"]], int | float)


def test_a_page_view_rides_the_request_log_line(
    client: Client, log: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    """One JSON document per view: the request's log line carries the view's metrics (EMF)."""
    capsys.readouterr()
    client.http.get("/drops/linen-lab")
    (line,) = [entry for entry in lines(log.getvalue()) if entry.get("message") == "request"]
    assert_emf(line)
    directives = {metric["Name"]: d for d in line["_aws"]["CloudWatchMetrics"] for metric in d["Metrics"]}
    assert [set(names) for names in directives["PageView"]["Dimensions"]] == [{"drop", "page", "service"}]
    assert (line["drop"], line["page"], line["service"], line["PageView"]) == ("linen-lab", "landing", "dropfront", 1)
    assert not [entry for entry in lines(capsys.readouterr().out) if "_aws" in entry]  # no second document


def test_a_request_without_metrics_logs_a_plain_line(client: Client, log: io.StringIO) -> None:
    client.http.get("/healthz")
    (line,) = lines(log.getvalue())
    assert "_aws" not in line


def test_counts_outside_a_request_go_out_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    page_view("linen-lab", "tryon")
    (document,) = lines(capsys.readouterr().out)
    assert_emf(document)
    assert (document["drop"], document["page"], document["PageView"]) == ("linen-lab", "tryon", 1)
    assert not call_stats.counts


def views_in_one_request(*drops: str) -> dict[str, Any]:
    """The request's log-line members after a landing page view of each drop within one request."""
    call_stats.reset()
    try:
        for drop in drops:
            page_view(drop, "landing")
        return call_stats.log_fields(int(time.time() * 1000))
    finally:
        call_stats.finish()


@pytest.mark.parametrize("second", ["knit-club", "linen-lab"])
def test_a_second_view_in_one_request_goes_out_on_its_own(second: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Another drop's view would overwrite the first's ``drop``; the same drop's would count one
    member twice. Either gets a document of its own, and the line keeps the first."""
    capsys.readouterr()
    line = views_in_one_request("linen-lab", second)
    (alone,) = lines(capsys.readouterr().out)
    assert_emf(line)
    assert_emf(alone)
    assert (line["drop"], alone["drop"], line["PageView"], alone["PageView"]) == ("linen-lab", second, 1, 1)
    assert len(line["_aws"]["CloudWatchMetrics"]) == 1
    assert not call_stats.in_request and not call_stats.counts


def test_errors_are_logged_with_their_code(client: Client, log: io.StringIO) -> None:
    client.http.get("/drops/nope")
    entries = lines(log.getvalue())
    refused = [e for e in entries if e.get("message") == "request refused"]
    assert refused and refused[0]["error_code"] == "drop_not_found"


class Pair(NamedTuple):
    rule: str
    bps: int


class Mode(StrEnum):
    SHARED = "shared"


@dataclass
class Place:
    id: str


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_a_log_record_reads_as_json_dumps_writes_it(value: Any) -> None:
    assert json.loads(log_json({"value": value})) == json.loads(json.dumps({"value": value}))


@pytest.mark.parametrize(
    "value",
    [
        Pair("segment:gold", 1000),
        Mode.SHARED,
        datetime(2026, 12, 6, 22, 5, 1, 250, tzinfo=UTC),
        date(2026, 12, 6),
        Decimal("12.50"),
        Place("paris-marais"),
        {"b"},
        b"raw",
        "naïve — \u2028",
        2**70,  # beyond orjson's 64 bits: json writes it
        {1: "an int key"},  # orjson takes only str keys: json writes it
    ],
)
def test_a_log_record_is_written_as_powertools_writes_it(value: Any) -> None:
    """Text for text with Powertools' own serializer, for what the app logs and what orjson hands back."""
    powertools = json.dumps({"value": value}, default=str, separators=(",", ":"), ensure_ascii=False)
    assert log_json({"value": value}) == powertools


def test_the_logger_writes_with_the_faster_serializer() -> None:
    formatter = logger.registered_formatter
    assert isinstance(formatter, LambdaPowertoolsFormatter)
    assert formatter.json_serializer is log_json
