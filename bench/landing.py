"""Warm landing page, in-process: app time (minus DynamoDB round trips) against the render floor.

The render floor is the same template rendered with the same context in a plain
``jinja2.Environment``. The two are measured interleaved, in one process, so they see the same
machine. DynamoDB time is what the store's calls took (moto's time is its own, not ours).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import jinja2

from bench.setup import BENCH_SLUG
from bench.stats import summary_us
from devtools.lambda_event import LambdaContext, rest_event
from devtools.process import forget_process_state


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Request logs and EMF metrics go to a sink while timing (on Lambda they go to CloudWatch)."""
    from chalicelib.telemetry import logger

    sink = io.StringIO()
    handler = cast(logging.StreamHandler[Any], logger.registered_handler)
    stream, stdout = handler.stream, sys.stdout
    handler.stream, sys.stdout = sink, sink
    try:
        yield
    finally:
        handler.stream, sys.stdout = stream, stdout


@contextlib.contextmanager
def deployed_stage() -> Iterator[None]:
    """Settings as on Lambda (infra names the stage): a deployed stage does not look for edited
    templates on each render, as ``make run``'s local stage does (a ``stat`` per template file)."""
    from chalicelib.pages.environment import environment

    saved = os.environ.get("DROPFRONT_STAGE")
    os.environ["DROPFRONT_STAGE"] = "bench"
    environment.cache_clear()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("DROPFRONT_STAGE")
        else:
            os.environ["DROPFRONT_STAGE"] = saved
        environment.cache_clear()
        forget_process_state()


def plain_renderer(locale: str, context: dict[str, Any]) -> Callable[[], str]:
    """The render floor: a plain Environment with the same template, catalog and filter."""
    from chalicelib.config import settings
    from chalicelib.i18n import formatting
    from chalicelib.pages.environment import translations

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(settings().templates_dir)),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda minor, currency: formatting.money(minor, currency, locale)
    template = env.get_template("landing.html")
    return lambda: template.render(context)


def floor_context(locale: str, cookie: str) -> dict[str, Any]:
    from chalicelib import wiring
    from chalicelib.shop.page import PageLocale, landing_context
    from chalicelib.shop.shopper import open_drop
    from chalicelib.web.request import edge

    shopper = open_drop(
        wiring.catalog(),
        BENCH_SLUG,
        edge({"accept-language": locale, "cookie": cookie}),
        wiring.utcnow(),
        with_tokens=False,
    )
    where = PageLocale(shopper.locale, shopper.zone, f"https://shop.example/drops/{BENCH_SLUG}", shopper.locales)
    return landing_context(shopper.view, where, "n0nce")


def measure(iterations: int, stock_cache_seconds: float, locale: str = "fr") -> dict[str, Any]:
    with deployed_stage():
        return _measure(iterations, stock_cache_seconds, locale)


def _measure(iterations: int, stock_cache_seconds: float, locale: str) -> dict[str, Any]:
    from app import app
    from chalicelib.telemetry import call_stats

    os.environ["DROPFRONT_STOCK_CACHE_SECONDS"] = str(stock_cache_seconds)
    forget_process_state()
    from chalicelib.shop.visitors import campaign_link

    context = LambdaContext()
    # A returning gold-tier visitor, so the guardrail has real candidates to stack and clamp.
    gold = f"c={campaign_link(tier='gold')}"
    first = app(
        rest_event("/drops/{slug}", {"slug": BENCH_SLUG}, query=gold, headers={"Accept-Language": locale}), context
    )
    cookie = first["headers"]["Set-Cookie"].split(";")[0]
    event = rest_event("/drops/{slug}", {"slug": BENCH_SLUG}, headers={"Accept-Language": locale, "Cookie": cookie})
    render_floor = plain_renderer(locale, floor_context(locale, cookie))
    app_times, floor_times, calls = [], [], []
    with silenced():
        for _ in range(30):  # warm both paths
            app(event, context)
            render_floor()
        for _ in range(iterations):
            started = time.perf_counter()
            response = app(event, context)
            app_times.append(time.perf_counter() - started - call_stats.seconds)
            calls.append(call_stats.calls)
            started = time.perf_counter()
            render_floor()
            floor_times.append(time.perf_counter() - started)
    assert response["statusCode"] == 200
    app_summary, floor_summary = summary_us(app_times), summary_us(floor_times)
    return {
        "stock_cache_seconds": stock_cache_seconds,
        "iterations": iterations,
        "app": app_summary,
        "render_floor": floor_summary,
        "ratio_p50": round(app_summary["p50_us"] / floor_summary["p50_us"], 2),
        "ratio_p99": round(app_summary["p99_us"] / floor_summary["p99_us"], 2),
        "dynamodb_requests_per_view": round(sum(calls) / len(calls), 3),
    }


def page_sizes() -> dict[str, Any]:
    """Landing page HTML size, raw and gzip (level 6, as a CDN compresses), per drop and locale."""
    from app import app

    sizes: dict[str, Any] = {}
    with silenced():
        for slug in ("linen-lab", BENCH_SLUG):
            for locale in ("en", "fr", "de", "es", "ja", "ar"):
                response = app(rest_event("/drops/{slug}", {"slug": slug}, query=f"lang={locale}"), LambdaContext())
                body = response["body"].encode()
                sizes[f"{slug}/{locale}"] = {"raw": len(body), "gzip": len(gzip.compress(body, 6))}
    return sizes
