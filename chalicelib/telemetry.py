"""Powertools Logger, Metrics and Tracer, shared by every function, and the metrics we emit.

The Tracer is built only when tracing is on: constructing one imports the X-Ray SDK even when it is
disabled, which costs about 0.45 s of cold start. With ``POWERTOOLS_TRACE_DISABLED=true`` (the
shopper function's default) Lambda's active tracing still records the invocation without the SDK.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "dropfront"
NAMESPACE = "dropfront"

# Requests that emit no metric (health checks, JSON reads) are normal, not worth a warning each.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


class CallStats(threading.local):
    """What the current request has gathered: its DynamoDB calls, the time it must answer by, and the
    fields the domain adds to its log line (``fields``; the middleware writes and clears them).

    Per thread: Lambda answers one request at a time per process, and `make run`'s server answers
    each on a thread of its own, so neither ever sees another request's figures."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        self.deadline: float | None = None  # time.monotonic() by which we must have answered
        self.fields: dict[str, Any] = {}

    def reset(self, remaining_seconds: float | None = None) -> None:
        self.calls = 0
        self.seconds = 0.0
        self.deadline = None if remaining_seconds is None else time.monotonic() + remaining_seconds
        self.fields = {}


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
    _count("PageView", drop=drop, page=page)


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
    drop: str, cells: list[str], shared: dict[str, Any], records: list[dict[str, Any]], policy_version: int | None
) -> None:
    """Every pricing decision of a view goes into the request's one log line, under ``pricing``: the
    visitor's experiment exposure, the inputs the decisions share (once), then each SKU's
    (``engine.expand`` rebuilds replayable records). Metrics: offers shown by cell, mean discount
    depth, and guardrail clamps by reason."""
    call_stats.fields["pricing"] = {
        "drop": drop,
        "exposure": cells,
        "policy_version": policy_version,
        "shared": shared,
        "decisions": records,
    }
    if not records:
        return
    metrics.add_dimension(name="cell", value=cells[0] if cells else "none")
    metrics.add_metric(name="OfferShown", unit=MetricUnit.Count, value=len(records))
    depth = sum(entry["discount_bps"] for entry in records) / len(records)
    metrics.add_metric(name="DiscountDepthBps", unit=MetricUnit.Count, value=round(depth, 1))
    clamps: dict[str, int] = {}
    for entry in records:
        for clamp in entry["clamps"]:
            clamps[clamp] = clamps.get(clamp, 0) + 1
    for clamp, count in clamps.items():
        metrics.add_metric(name=f"GuardrailClamp_{clamp}", unit=MetricUnit.Count, value=count)
