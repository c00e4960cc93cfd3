"""The error page every HTML route answers with: localized, with the status and the error's code."""

from __future__ import annotations

from chalicelib.i18n.locales import text_direction
from chalicelib.pages.environment import template


def render_error(locale: str, status: int, code: str, nonce: str) -> str:
    return template(locale, "error.html").render(
        lang=locale.replace("_", "-"), dir=text_direction(locale), nonce=nonce, status=status, code=code
    )
