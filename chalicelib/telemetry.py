"""Powertools Logger, Metrics and Tracer, shared by every function, and the metrics we emit.

The Tracer is built only when tracing is on: constructing one imports the X-Ray SDK even when it is
disabled, which costs about 0.45 s of cold start. With ``POWERTOOLS_TRACE_DISABLED=true`` (the
shopper function's default) Lambda's active tracing still records the invocation without the SDK.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "dropfront"
NAMESPACE = "dropfront"

# Requests that emit no metric (health checks, JSON reads) are normal, not worth a warning each.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


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
    with single_metric(
        name="PageView", unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        metric.add_dimension(name="drop", value=drop)
        metric.add_dimension(name="page", value=page)
