"""The error page every HTML route answers with: localized, with the status and the error's code."""

from __future__ import annotations

from chalicelib.pages.environment import template
from chalicelib.pages.frame import page_frame


def render_error(locale: str, status: int, code: str, nonce: str) -> str:
    return template(locale, "error.html").render(**page_frame(locale, nonce), status=status, code=code)
