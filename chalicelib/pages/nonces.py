"""The nonces a page's CSP names: one for its inline styles, another for its scripts.

Marketers' templates see the style nonce (a restyled page needs its ``<style>``), never the script
nonce: that one is derived from the style nonce with a key this process drew at start, so nothing a
template can read or compute names a script the browser will run. Shipped partials print it as
``_script_nonce``, a name marketer templates may not use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_KEY = secrets.token_bytes(32)


def script_nonce(style_nonce: str) -> str:
    digest = hmac.new(_KEY, style_nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
