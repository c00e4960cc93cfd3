"""The studio on Lambda: the Starlette app behind Mangum, built once per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mangum import Mangum

from chalicelib.studio.app import create_app


@lru_cache(maxsize=1)
def _handler() -> Mangum:
    return Mangum(create_app(), lifespan="off")


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = _handler()(event, context)
    return response
