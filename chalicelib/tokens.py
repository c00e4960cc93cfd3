"""Signed tokens: one itsdangerous serializer per purpose, each with its own salt and lifetime.

A token signed for one purpose never verifies for another. ``DROPFRONT_SECRET_KEYS`` lists the keys
oldest to newest: the newest signs, all of them verify, so a key can be rotated out gracefully.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from chalicelib.config import settings


class Purpose(StrEnum):
    VISITOR = "visitor"
    OFFER = "offer"
    CAMPAIGN = "campaign"


LIFETIMES: dict[Purpose, timedelta] = {
    Purpose.VISITOR: timedelta(days=400),
    Purpose.OFFER: timedelta(minutes=15),
    Purpose.CAMPAIGN: timedelta(days=30),
}


class InvalidToken(Exception):
    """Tampered, expired, signed with an unknown key, or made for another purpose."""


@cache
def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(settings().secret_keys), salt=f"dropfront.{purpose.value}")


def sign(purpose: Purpose, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def verify(purpose: Purpose, token: str) -> Any:
    """The payload of a valid, unexpired ``purpose`` token, or ``InvalidToken``."""
    try:
        return _serializer(purpose).loads(token, max_age=int(LIFETIMES[purpose].total_seconds()))
    except (BadData, UnicodeError, ValueError) as error:
        raise InvalidToken(str(error)) from error


def forget_keys() -> None:
    """Drop cached serializers (after the keys change)."""
    _serializer.cache_clear()
