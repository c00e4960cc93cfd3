"""The shopper API's HTTP middleware: security headers on every response, and one log line per request."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Response

from chalicelib.telemetry import call_stats, logger
from chalicelib.web.responses import with_base_headers


def _remaining_seconds(request: Any) -> float | None:
    context = getattr(request, "lambda_context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    try:
        return float(remaining()) / 1000.0
    except (TypeError, ValueError):
        return None


def request_middleware(request: Any, get_response: Callable[[Any], Response]) -> Response:
    started = time.perf_counter()
    context = getattr(request, "context", None) or {}
    correlation_id = context.get("requestId") or uuid.uuid4().hex
    logger.set_correlation_id(correlation_id)
    call_stats.reset(_remaining_seconds(request))
    response = get_response(request)
    response.headers = with_base_headers(response.headers or {})
    response.headers.setdefault("X-Request-Id", correlation_id)
    logger.info(
        "request",
        extra={
            "http": {"method": request.method, "path": request.path, "status": response.status_code},
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "dynamodb": {"calls": call_stats.calls, "ms": round(call_stats.seconds * 1000, 3)},
            **call_stats.log_fields(int(time.time() * 1000)),
        },
    )
    call_stats.finish()
    return response
