"""Responses with the headers docs/design.md requires on every page."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from chalice.app import Response

from chalicelib.config import settings
from chalicelib.pages.nonces import script_nonce

BASE_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
PRIVATE = "private, no-store"
SHARED_PAGE = "public, max-age=0, s-maxage=1"
"""A landing page rendered for a segment: CloudFront keeps it a second, no more, since the stock it
shows may be a second old at most (it is read afresh for it); so no stale-while-revalidate: at
expiry one request per page waits for the next render (CloudFront collapses the rest onto it).
Browsers ask again each time."""


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def _media_sources() -> str:
    """'self', plus the media origin when fit videos are served from another one."""
    parts = urlsplit(settings().media_url)
    return f"'self' {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "'self'"


def html_csp(nonce: str) -> str:
    """Inline style only with this response's nonce, inline script only with the script nonce
    derived from it (``pages.nonces``); images and video only from us (and the media origin);
    nothing else loads from elsewhere."""
    media = _media_sources()
    return (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{script_nonce(nonce)}'; "
        f"img-src {media} data:; media-src {media}; connect-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def with_base_headers(headers: Mapping[str, str | list[str]]) -> dict[str, str | list[str]]:
    """``headers`` plus the security headers every response carries (it may override them)."""
    merged: dict[str, str | list[str]] = dict(BASE_HEADERS)
    merged.setdefault("Content-Security-Policy", JSON_CSP)
    merged.update(headers)
    return merged


def html(
    body: str,
    *,
    nonce: str,
    locale: str,
    status: int = 200,
    cache: str = PRIVATE,
    extra: Mapping[str, str | list[str]] | None = None,
    shared: bool = False,
) -> Response:
    """``shared``: a page rendered for a segment, which CloudFront keeps (``SHARED_PAGE``); the
    segment key stands for the cookie, so it does not vary by it (a CDN may refuse to keep a page
    that does)."""
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": html_csp(nonce),
        "Content-Language": locale.replace("_", "-"),
        "Cache-Control": SHARED_PAGE if shared else cache,
        "Vary": "Accept-Language" if shared else "Accept-Language, Cookie",
        **(extra or {}),
    }
    return Response(body=body, status_code=status, headers=with_base_headers(headers))


def json_body(
    payload: Any, *, status: int = 200, cache: str = PRIVATE, extra: Mapping[str, str | list[str]] | None = None
) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json", "Cache-Control": cache, **(extra or {})}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return Response(body=body, status_code=status, headers=with_base_headers(headers))


def see_other(location: str, extra: dict[str, str] | None = None) -> Response:
    """303 to the page that follows a form (a same-site path): a reload never posts again."""
    headers = {"Location": location, "Cache-Control": PRIVATE, **(extra or {})}
    return Response(body="", status_code=303, headers=with_base_headers(headers))


def not_modified(etag: str, cache: str) -> Response:
    return Response(body="", status_code=304, headers=with_base_headers({"ETag": etag, "Cache-Control": cache}))


def download(body: str, content_type: str, filename: str) -> Response:
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": PRIVATE,
    }
    return Response(body=body, status_code=200, headers=with_base_headers(headers))


def error_envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}
