"""The one place domain errors become HTTP: the JSON envelope for the API, a localized page for HTML.

Chalice turns an exception escaping a view into its own 500 before middleware sees it, so routes
wear one of these decorators instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from chalice.app import Response

from chalicelib.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    Unprocessable,
)
from chalicelib.core.models import SLUG_PATTERN
from chalicelib.i18n.locales import LANG_PATTERN, UI_LOCALES, negotiate
from chalicelib.pages.errors import render_error
from chalicelib.telemetry import logger
from chalicelib.web import responses

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    RateLimited: 429,
    Unavailable: 503,
}
SLUG = re.compile(SLUG_PATTERN)
INTERNAL = ("internal_error", "Something went wrong on our side. It has been logged.")

View = Callable[..., Response]


def status_for(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 400


def _next_step_headers(error: Exception) -> dict[str, str]:
    """Headers that tell the client what to do next: when to retry, or how to authenticate."""
    if isinstance(error, Unavailable | RateLimited):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, Unauthorized):
        return {"WWW-Authenticate": 'Bearer realm="dropfront"'}
    return {}


def _describe(error: Exception) -> tuple[int, str, str, Any]:
    if isinstance(error, DomainError):
        status = status_for(error)
        level = logger.warning if status >= 500 else logger.info
        level("request refused", extra={"status": status, "error_code": error.code, "reason": error.message})
        return status, error.code, error.message, error.details
    logger.exception("unhandled error")
    return 500, *INTERNAL, None


def json_error(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response:
    return responses.json_body(responses.error_envelope(code, message, details), status=status, extra=headers)


def html_error(request: Any, status: int, code: str, headers: dict[str, str] | None = None) -> Response:
    """A localized error page, in the best locale the (possibly malformed) request allows."""
    params = getattr(request, "query_params", None) or {}
    lang = params.get("lang") if hasattr(params, "get") else None
    requested = lang if isinstance(lang, str) and LANG_PATTERN.match(lang) else None
    accept = request.headers.get("accept-language") if request is not None else None
    locale = negotiate(requested, accept if accept and len(accept) < 512 else None, UI_LOCALES, "en")
    nonce = responses.new_nonce()
    body = render_error(locale, status, code, nonce, _back(request, locale, status))
    return responses.html(body, nonce=nonce, locale=locale, status=status, extra=headers)


def _back(request: Any, locale: str, status: int) -> str | None:
    """The drop page a failed drop route came from (a form on it, or one of its holds), or the drop's
    own page without the query it could not read (a link mangled on its way to the shopper)."""
    slug = (getattr(request, "uri_params", None) or {}).get("slug")
    path = str(getattr(request, "path", ""))
    if not isinstance(slug, str) or not SLUG.match(slug):
        return None
    if path.startswith("/drops/{slug}/") or (path == "/drops/{slug}" and status == 400):
        return f"/drops/{slug}?lang={locale}"
    return None


def _guarded(view: View, answer: Callable[[Exception, int, str, str, Any], Response]) -> View:
    """``view``, with any exception turned into ``answer(error, status, code, message, details)``."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - this is the mapping point
            return answer(error, *_describe(error))

    return wrapped


class ErrorMapping:
    """Decorators for routes: ``@errors.json`` and ``@errors.html``."""

    def __init__(self, current_request: Callable[[], Any]) -> None:
        self._current_request = current_request

    def json(self, view: View) -> View:
        return _guarded(
            view,
            lambda error, status, code, message, details: json_error(
                status, code, message, details, _next_step_headers(error)
            ),
        )

    def html(self, view: View) -> View:
        return _guarded(
            view,
            lambda error, status, code, _message, _details: html_error(
                self._current_request(), status, code, _next_step_headers(error)
            ),
        )
