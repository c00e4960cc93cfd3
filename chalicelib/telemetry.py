"""Powertools Logger and Tracer, shared by every function, and the metrics we emit.

A view's metrics (its page view, its offers) ride its request's one log line in CloudWatch's
embedded metric format (EMF): one JSON document per request instead of three. Rarer events (a
template fallback, the outbox's sweep, contention) are one Powertools ``single_metric`` each.

The Tracer is built only when tracing is on: constructing one imports the X-Ray SDK even when it is
disabled, which costs about 0.45 s of cold start. With ``POWERTOOLS_TRACE_DISABLED=true`` (the
shopper function's default) Lambda's active tracing still records the invocation without the SDK.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "dropfront"
NAMESPACE = "dropfront"

_AS_DEFAULT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _as_json(value: Any) -> Any:
    """What ``json.dumps`` makes of a value orjson hands back: a named tuple's fields as a list,
    anything else its ``str`` (Powertools' own default)."""
    return list(value) if isinstance(value, tuple) else str(value)


def log_json(record: Mapping[str, Any]) -> str:
    """A log record as JSON, as Powertools' ``json.dumps`` writes it (compact, UTF-8, anything else
    as its ``str``), but by orjson: a landing view's line (4 kB, its decisions as rows) took 47 µs
    to serialize with ``json``, 4 with orjson. Two kinds of value differ: a plain ``Enum`` is its
    value, not its name, and a NaN or an infinity is ``null`` (json writes ``NaN``, which no JSON
    reader takes). What orjson refuses (an int beyond 64 bits, a non-string key) goes to ``json``."""
    try:
        return orjson.dumps(record, default=_as_json, option=_AS_DEFAULT).decode()
    except TypeError:
        return json.dumps(record, default=str, separators=(",", ":"), ensure_ascii=False)


logger = Logger(service=SERVICE, json_serializer=log_json)


@dataclass(frozen=True, slots=True)
class Counts:
    """Counts that share one set of dimensions: one directive of an EMF document."""

    dimensions: Mapping[str, str]  # the service's among them
    values: Mapping[str, float]  # metric name → value (unit Count)

    def members(self) -> dict[str, str | float]:
        return {**self.dimensions, **self.values}


def embedded_metrics(counts: Sequence[Counts], timestamp_ms: int) -> dict[str, Any]:
    """The members that make a JSON log line an EMF document carrying ``counts`` (CloudWatch takes
    the metrics out of the line; its other members stay properties of the log event)."""
    directives = [
        {
            "Namespace": NAMESPACE,
            "Dimensions": [list(each.dimensions)],
            "Metrics": [{"Name": name, "Unit": MetricUnit.Count.value} for name in each.values],
        }
        for each in counts
    ]
    members: dict[str, Any] = {}
    for each in counts:
        members.update(each.members())
    return {"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}, **members}


class CallStats(threading.local):
    """What the current request has gathered: its DynamoDB calls, the time it must answer by, and the
    fields and view metrics the domain adds to its log line (``fields``, ``counts``; the middleware
    writes and clears them; ``in_request`` says one is listening).

    Per thread: Lambda answers one request at a time per process, and `make run`'s server answers
    each on a thread of its own, so neither ever sees another request's figures."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        self.deadline: float | None = None  # time.monotonic() by which we must have answered
        self.fields: dict[str, Any] = {}
        self.counts: list[Counts] = []
        self.in_request = False

    def reset(self, remaining_seconds: float | None = None) -> None:
        self.calls = 0
        self.seconds = 0.0
        self.deadline = None if remaining_seconds is None else time.monotonic() + remaining_seconds
        self.fields = {}
        self.counts = []
        self.in_request = True

    def finish(self) -> None:
        """Work after this request (or outside any) must not inherit its deadline, fields or counts."""
        self.deadline = None
        self.fields = {}
        self.counts = []
        self.in_request = False

    def log_fields(self, timestamp_ms: int) -> dict[str, Any]:
        """The domain's fields for the request's log line, with its view metrics as EMF if any."""
        if not self.counts:
            return self.fields
        return {**self.fields, **embedded_metrics(self.counts, timestamp_ms)}


call_stats = CallStats()


def tracing_enabled() -> bool:
    """True on Lambda unless ``POWERTOOLS_TRACE_DISABLED`` says otherwise (never under chalice local)."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes")
    on_lambda = "LAMBDA_TASK_ROOT" in os.environ and "AWS_CHALICE_CLI_MODE" not in os.environ
    return on_lambda and not disabled


@lru_cache(maxsize=1)
def tracer() -> Tracer:
    return Tracer(service=SERVICE)


def page_view(drop: str, page: str) -> None:
    """One ``PageView`` with the drop (and the kind of page) as dimensions."""
    _view_counts({"drop": drop, "page": page}, {"PageView": 1})


def _view_counts(dimensions: Mapping[str, str], values: Mapping[str, float]) -> None:
    """Counts for the request's log line. Outside a request, or when a name is already there with
    another value (a second view in one request, a dimension named like a log field), they go out
    at once as an EMF document of their own."""
    counts = Counts({"service": SERVICE, **dimensions}, values)
    if call_stats.in_request and _fits(counts):
        call_stats.counts.append(counts)
        return
    print(json.dumps(embedded_metrics([counts], int(time.time() * 1000)), separators=(",", ":")), flush=True)


LOG_LINE_KEYS = frozenset(
    {"level", "location", "message", "timestamp", "sampling_rate", "cold_start", "correlation_id", "xray_trace_id"}
    | {"function_name", "function_memory_size", "function_arn", "function_request_id"}  # Powertools' own
    | {"http", "duration_ms", "dynamodb", "_aws"}  # the middleware's
)


def _fits(counts: Counts) -> bool:
    """Whether ``counts`` can join the line: its metrics new to it, its dimensions new or the same."""
    if not LOG_LINE_KEYS.isdisjoint(counts.members()):
        return False
    taken = call_stats.fields | {name: value for each in call_stats.counts for name, value in each.members().items()}
    return taken.keys().isdisjoint(counts.values) and all(
        taken.get(name, value) == value for name, value in counts.dimensions.items()
    )


def _count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    with single_metric(
        name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


FUNNEL_METRICS = {
    "scans": "QrScan",
    "tryon_requests": "TryOnRequested",
    "tryons_completed": "TryOnCompleted",
    "booked_after_tryon": "BookedAfterTryOn",
    "sold_after_tryon": "SoldAfterTryOn",
}
"""The CloudWatch metric for each QR funnel step (``chalicelib.tryon.ports.FunnelStep``)."""


def funnel_step(drop: str, popup: str, step: str) -> None:
    """One more at a step of the QR funnel, by drop and pop-up."""
    _count(FUNNEL_METRICS[step], drop=drop, popup=popup)


def template_fallback(template: str, version: int) -> None:
    """A published template failed to compile or render; an older one (or the shipped one) served.
    Counted on the service alone, the dimension set its alarm watches (the log line names the
    template and version)."""
    _count("TemplateFallback")


def template_breaker_open(template: str, version: int) -> None:
    """A published version failed at view time: views skip it for ``BREAKER_SECONDS``."""
    logger.error("template breaker open", extra={"template": template, "version": version})
    _count("TemplateBreakerOpen")


def outbox_sent(sent: list[str], skipped: list[str], retried: list[str], failed: list[str]) -> None:
    """What one sweep did with the outbox: ``MessageSent``, and ``MessageFailed`` (an alarm watches
    it) with an error line naming each message an operator must look at."""
    if sent or skipped or retried:
        logger.info("outbox sent", extra={"sent": len(sent), "skipped": len(skipped), "retried": retried})
    if sent:
        _count("MessageSent", len(sent))
    if failed:
        logger.error("messages failed for good: check the sender identity and the addresses", extra={"failed": failed})
        _count("MessageFailed", len(failed))


def dynamodb_contention(kind: str, what: str) -> None:
    """A write that met a hot item: ``DynamoDBContention`` on the service alone (its alarm's
    dimension set), and a log line naming the kind (TransactionConflict or Throttled) and the write."""
    logger.info("dynamodb contention", extra={"contention": kind, "write": what})
    _count("DynamoDBContention")


def guardrail_fail_closed(drop: str) -> None:
    _count("GuardrailFailClosed", drop=drop)


def offers_shown(
    drop: str,
    cells: list[str],
    shared: dict[str, Any],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    policy_version: int | None,
) -> None:
    """Every pricing decision of a view goes into the request's one log line, under ``pricing``: the
    visitor's experiment exposure, the inputs the decisions share (once), the decisions' ``fields``
    and a row of them per SKU (``engine.expand`` rebuilds replayable records). Metrics: offers
    shown by cell, mean discount depth, and guardrail clamps by reason."""
    call_stats.fields["pricing"] = {
        "drop": drop,
        "exposure": cells,
        "policy_version": policy_version,
        "shared": shared,
        "fields": fields,
        "decisions": rows,
    }
    if not rows:
        return
    depth_at, clamps_at = fields.index("discount_bps"), fields.index("clamps")
    depth = sum(row[depth_at] for row in rows) / len(rows)
    values: dict[str, float] = {"OfferShown": len(rows), "DiscountDepthBps": round(depth, 1)}
    for row in rows:
        for clamp in row[clamps_at]:
            values[f"GuardrailClamp_{clamp}"] = values.get(f"GuardrailClamp_{clamp}", 0) + 1
    _view_counts({"cell": cells[0] if cells else "none"}, values)
