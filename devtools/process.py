"""A fresh process, for tests: every object the app caches for the life of a Lambda process, forgotten."""

from __future__ import annotations

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.core.tokens import forget_keys
from chalicelib.pages.published import sandbox
from chalicelib.store.client import reset_client
from chalicelib.studio.cognito import jwks_client


def forget_process_state() -> None:
    """Forget every cached object (tests switch settings and endpoints, or play a cold start)."""
    wiring.forget_adapters()
    settings.cache_clear()
    sandbox.cache_clear()
    jwks_client.cache_clear()
    reset_client()
    forget_keys()
