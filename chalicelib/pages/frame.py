"""What every page's frame (``base.html``) reads, whichever page and whoever wrote the template."""

from __future__ import annotations

from chalicelib.i18n.locales import text_direction
from chalicelib.pages.nonces import script_nonce


def page_frame(locale: str, nonce: str) -> dict[str, str]:
    """The page's language and direction, its style nonce, and the script nonce that only shipped
    partials print (``pages.nonces``)."""
    return {
        "lang": locale.replace("_", "-"),
        "dir": text_direction(locale),
        "nonce": nonce,
        "_script_nonce": script_nonce(nonce),
    }
