"""Powertools Logger, Metrics and Tracer, shared by every function, and the metrics we emit."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "dropfront"
NAMESPACE = "dropfront"

# Requests that emit no metric (health checks, JSON reads) are normal, not worth a warning each.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def page_view(drop: str, page: str) -> None:
    """One ``PageView`` with the drop (and the kind of page) as dimensions."""
    with single_metric(name="PageView", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="drop", value=drop)
        metric.add_dimension(name="page", value=page)
