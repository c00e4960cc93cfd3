"""The error page every HTML route answers with: localized, with the status and the error's code."""

from __future__ import annotations

from chalicelib.pages.environment import template
from chalicelib.pages.frame import page_frame


def render_error(locale: str, status: int, code: str, nonce: str, back: str | None = None) -> str:
    """The error page; ``back`` is the page to offer instead (the drop a form came from)."""
    frame = page_frame(locale, nonce)
    return template(locale, "error.html").render(**frame, status=status, code=code, back=back)
