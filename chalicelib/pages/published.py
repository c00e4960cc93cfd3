"""Which template a page renders: the marketer's published version (in the sandbox) or the shipped one.

A publish reaches every Lambda within the pointer cache's lifetime (``DROPFRONT_TEMPLATE_CACHE_SECONDS``).
A published version that fails to compile or render never takes the page down: the last version that
rendered in this process serves instead (else the shipped template), and ``TemplateFallback`` fires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from jinja2 import Template

from chalicelib import telemetry
from chalicelib.config import settings
from chalicelib.pages.environment import page_filters, template, translations
from chalicelib.telemetry import logger

if TYPE_CHECKING:  # the sandbox is imported when a published version is first rendered
    from chalicelib.pages.sandbox import Sandbox

BREAKER_SECONDS = 60.0
"""How long a published version that failed at view time is skipped (the last good one serves): a
template that breaks its budget costs one budget per process per minute, not one per view."""
PAGES = {"landing": "landing.html", "tryon": "tryon.html", "pickup": "pickup.html"}
"""The pages marketers may restyle, and the shipped template each starts from."""
CONTEXT_NAMES: dict[str, frozenset[str]] = {
    "landing": frozenset(
        [
            "lang",
            "dir",
            "nonce",
            "_script_nonce",
            "view",
            "drop",
            "status",
            "text",
            "local_time",
            "starts_in",
            "ends_in",
            "product_ld",
            "drop_ld",
            "canonical",
            "default_url",
            "alternates",
            "reserve",
            "places",
            "units_at",
            "left_words",
            "notice",
            "gone",
            "next_batches",
            "in_queue",
            "picture",
            "personalized",
        ]
    ),
    "tryon": frozenset(
        [
            "lang",
            "dir",
            "nonce",
            "_script_nonce",
            "text",
            "drop",
            "sku",
            "popup",
            "ended",
            "open",
            "closes_at",
            "offer",
            "sizes",
            "chosen",
            "video",
            "poster",
            "video_src",
            "captions",
            "fabric",
            "qr_token",
            "scan",
            "drop_url",
            "pickup",
            "zone",
            "zone_name",
        ]
    ),
    "pickup": frozenset(
        [
            "lang",
            "dir",
            "nonce",
            "_script_nonce",
            "booking",
            "drop_name",
            "popup_name",
            "popup_address",
            "slot_start",
            "zone_name",
            "lines",
            "total",
            "qr",
            "cancel_token",
            "map_url",
            "calendar_url",
            "cancel_action",
            "drop_url",
        ]
    ),
}
"""What each page's context offers a template: a marketer's template may use these names and no others."""
PARTIALS = (
    "base.html",
    "error.html",
    "partials/critical.css",
    "partials/landing.js.html",
    "partials/hold_timer.js",
    "partials/tryon.js.html",
    "partials/pickup.js.html",
)
"""What a marketer's template may extend or include: ours, by name; never a name they choose."""


class TemplateReader(Protocol):
    def pointer(self, name: str) -> dict[str, Any] | None: ...

    def version(self, name: str, version: int) -> dict[str, Any] | None: ...


class Promoter(Protocol):
    def pointer(self, name: str) -> dict[str, Any] | None: ...

    def make_scheduled_current(self, name: str, version: int, replaces: int | None, at_iso: str) -> bool: ...


def promote_due(store: Promoter, now: datetime) -> list[str]:
    """Record scheduled publishes whose time has come as published (readers already show them), so
    that roll-back and history see them; the pages promoted."""
    promoted = []
    for name in PAGES:
        pointer = store.pointer(name) or {}
        scheduled: dict[str, Any] | None = pointer.get("scheduled")
        if scheduled is None or not _due(scheduled, now):
            continue
        # Readers switched at the scheduled moment, so that is when it went live.
        if store.make_scheduled_current(name, int(scheduled["version"]), pointer.get("published"), scheduled["at"]):
            promoted.append(name)
    return promoted


def _due(scheduled: dict[str, Any] | None, now: datetime) -> bool:
    return scheduled is not None and datetime.fromisoformat(scheduled["at"]) <= now


def effective_version(pointer: dict[str, Any] | None, now: datetime) -> int | None:
    """The version a page shows at ``now``: a scheduled one once its time has come, else the published."""
    if not pointer:
        return None
    scheduled = pointer.get("scheduled")
    if scheduled is not None and _due(scheduled, now):
        return int(scheduled["version"])
    published = pointer.get("published")
    return int(published) if published is not None else None


def shipped_source(name: str) -> str:
    """The shipped template a page starts from (a marketer's first draft is usually a copy of it)."""
    return (settings().templates_dir / PAGES[name]).read_text(encoding="utf-8")


@lru_cache(maxsize=8)
def sandbox(locale: str) -> Sandbox:
    from chalicelib.pages.sandbox import Sandbox

    folder = settings().templates_dir
    partials = {name: (folder / name).read_text(encoding="utf-8") for name in PARTIALS}
    return Sandbox(partials, page_filters(locale), translations(locale))


class PublishedTemplates:
    """Published pointers, cached per process; compiled versions, cached for good (they never change)."""

    def __init__(self, reader: TemplateReader, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._reader = reader
        self._ttl = ttl
        self._clock = clock
        self._pointers: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._compiled: dict[tuple[str, str, int], Template] = {}
        self._last_good: dict[tuple[str, str], int] = {}
        self._broken: dict[tuple[str, str, int], float] = {}  # until when a failed version is skipped
        self._lock = threading.Lock()

    def pointer(self, name: str) -> dict[str, Any] | None:
        cached = self._pointers.get(name)
        if cached is None or cached[0] <= self._clock():
            with self._lock:
                cached = self._pointers.get(name)
                if cached is None or cached[0] <= self._clock():
                    cached = (self._clock() + self._ttl, self._reader.pointer(name))
                    self._pointers[name] = cached
        return cached[1]

    def render(self, locale: str, name: str, context: Mapping[str, Any], now: datetime) -> str:
        version = effective_version(self.pointer(name), now)
        if not version:  # nothing published, or the shipped template (0) published again
            return template(locale, PAGES[name]).render(context)
        from chalicelib.pages.sandbox import RenderRefused, TemplateRejected

        key = (locale, name, version)
        if self._broken.get(key, 0.0) > self._clock():
            return self._fallback(locale, name, version, context)
        try:
            html = self._render_version(locale, name, version, context)
        except (TemplateRejected, RenderRefused, LookupError) as error:
            self._broken[key] = self._clock() + BREAKER_SECONDS
            telemetry.template_fallback(name, version)
            telemetry.template_breaker_open(name, version)
            logger.warning(
                "published template failed; serving the last good one",
                extra={"template": name, "version": version, "locale": locale, "error": str(error)},
            )
            return self._fallback(locale, name, version, context)
        self._last_good[(locale, name)] = version
        return html

    def render_version(self, locale: str, name: str, version: int, context: Mapping[str, Any]) -> str:
        """One version (0: the shipped template), published or not: the studio's preview."""
        if version == 0:
            return template(locale, PAGES[name]).render(context)
        return self._render_version(locale, name, version, context)

    def _render_version(self, locale: str, name: str, version: int, context: Mapping[str, Any]) -> str:
        key = (locale, name, version)
        compiled = self._compiled.get(key)
        if compiled is None:
            stored = self._reader.version(name, version)
            if stored is None:
                raise LookupError(f"{name} v{version} is not in the store")
            compiled = sandbox(locale).compile(stored["source"], context.keys())
            self._compiled[key] = compiled
        return sandbox(locale).render(compiled, context)

    def _fallback(self, locale: str, name: str, failed: int, context: Mapping[str, Any]) -> str:
        from chalicelib.pages.sandbox import RenderRefused, TemplateRejected

        good = self._last_good.get((locale, name))
        if good is not None and good != failed:
            try:
                return self._render_version(locale, name, good, context)
            except (TemplateRejected, RenderRefused, LookupError):
                pass
        return template(locale, PAGES[name]).render(context)
