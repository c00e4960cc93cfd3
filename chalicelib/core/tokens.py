"""Signed tokens: one itsdangerous serializer per purpose, each with its own salt and lifetime.

A token signed for one purpose never verifies for another. ``DROPFRONT_SECRET_KEYS`` lists the keys
oldest to newest: the newest signs, all of them verify, so a key can be rotated out gracefully.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any

from itsdangerous import BadData, Serializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

from chalicelib.config import settings, split_keys


class Purpose(StrEnum):
    VISITOR = "visitor"
    OFFER = "offer"
    CAMPAIGN = "campaign"
    CANCEL = "cancel"
    TILL = "till"
    QR = "qr"
    STUDIO_SESSION = "studio-session"
    CSRF = "csrf"
    SHOPPER_FORM = "shopper-form"
    NOTIFY = "notify"
    SCAN = "scan"
    QUEUE_TICKET = "queue-ticket"
    ADMISSION = "admission"


LIFETIMES: dict[Purpose, timedelta] = {
    Purpose.VISITOR: timedelta(days=400),
    Purpose.OFFER: timedelta(minutes=15),
    Purpose.CAMPAIGN: timedelta(days=30),
    Purpose.CANCEL: timedelta(days=60),  # a booking can be cancelled until its slot, weeks ahead at most
    Purpose.TILL: timedelta(days=14),  # a pop-up's weekend, with room; revocable before that
    Purpose.QR: timedelta(days=180),  # printed tags outlive a weekend; the pop-up's window ends them first
    Purpose.STUDIO_SESSION: timedelta(hours=12),  # a working day in the studio
    Purpose.CSRF: timedelta(hours=12),  # as long as the session whose forms carry it
    Purpose.SHOPPER_FORM: timedelta(hours=12),  # a drop page left open in a tab all day
    Purpose.NOTIFY: timedelta(days=7),  # a confirmation link read a few days later still works
    Purpose.SCAN: timedelta(minutes=20),  # a shopper at the rail decides within minutes of scanning
    Purpose.QUEUE_TICKET: timedelta(days=1),  # a waiting room lasts a day at most
    Purpose.ADMISSION: timedelta(days=1),  # let in once, in for the rest of the room's time (a day at most)
}


class InvalidToken(Exception):
    """Tampered, expired, signed with an unknown key, or made for another purpose."""


class FieldsSerializer:
    """Fields joined by ``#`` instead of JSON, for tokens that must be short: a QR tag's pop-up, SKU
    and size (none of which may hold a ``#``) sign to 67 characters instead of 78, which keeps a
    tag's URL inside a version 6 QR symbol."""

    @staticmethod
    def dumps(fields: Any) -> str:
        return "#".join(fields)

    @staticmethod
    def loads(text: str) -> list[str]:
        return text.split("#")


FIELD_PURPOSES = frozenset({Purpose.QR})


KEYS_MAX_AGE_SECONDS = 300
"""How long a Lambda keeps the signing keys it read from Secrets Manager: a rotation (a new key
appended, the oldest dropped once its tokens have expired) reaches every warm Lambda within it."""


def signing_keys() -> tuple[str, ...]:
    """The keys, oldest to newest (the newest signs): from the environment, or in AWS from the
    secret, through Powertools Parameters and its cache."""
    config = settings()
    if config.secret_keys_secret is None:
        return config.secret_keys
    from aws_lambda_powertools.utilities import parameters

    keys = split_keys(str(parameters.get_secret(config.secret_keys_secret, max_age=KEYS_MAX_AGE_SECONDS)))
    if not keys:
        raise RuntimeError(f"The secret {config.secret_keys_secret} holds no signing key")
    return keys


COMPRESS_FROM = 200
"""Payloads shorter than this (in bytes) are not offered to zlib."""


class TokenSerializer(URLSafeTimedSerializer):
    """itsdangerous's URL-safe timed serializer without its zlib try on short payloads (it tries
    every payload and keeps the result if shorter). Each try sets up zlib's state (about 256 KB by
    zlib's own reckoning): 6 µs in a tight loop, but in a warm view the form token's signing went
    from 80 to 55 µs without it, and a payload of a few dozen bytes rarely shrinks. Tokens read the
    same either way (a compressed one is marked by its leading dot)."""

    def dump_payload(self, obj: Any) -> bytes:
        raw = Serializer.dump_payload(self, obj)
        return super().dump_payload(obj) if len(raw) >= COMPRESS_FROM else base64_encode(raw)


@cache
def _serializer_for(purpose: Purpose, keys: tuple[str, ...]) -> URLSafeTimedSerializer:
    salt = f"dropfront.{purpose.value}"
    if purpose in FIELD_PURPOSES:
        return TokenSerializer(list(keys), salt=salt, serializer=FieldsSerializer)
    return TokenSerializer(list(keys), salt=salt)


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return _serializer_for(purpose, signing_keys())


def sign(purpose: Purpose, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def verify(purpose: Purpose, token: str) -> Any:
    """The payload of a valid, unexpired ``purpose`` token, or ``InvalidToken``."""
    try:
        return _serializer(purpose).loads(token, max_age=int(LIFETIMES[purpose].total_seconds()))
    except (BadData, UnicodeError, ValueError) as error:
        raise InvalidToken(str(error)) from error


def _verified(purpose: Purpose, token: str) -> tuple[Any, datetime]:
    return _verified_with(purpose, token, signing_keys())


@lru_cache(maxsize=4096)
def _verified_with(purpose: Purpose, token: str, keys: tuple[str, ...]) -> tuple[Any, datetime]:
    try:
        payload, signed_at = _serializer_for(purpose, keys).loads(token, return_timestamp=True)
    except (BadData, UnicodeError, ValueError) as error:
        raise InvalidToken(str(error)) from error
    return payload, signed_at


def verify_repeated(purpose: Purpose, token: str) -> Any:
    """``verify`` for tokens a client presents on every request (the visitor cookie): the signature
    check is remembered per token string; the expiry is checked on every call. Invalid tokens are
    not remembered (``lru_cache`` does not cache exceptions). Callers must not mutate the payload."""
    payload, signed_at = _verified(purpose, token)
    if datetime.now(UTC) - signed_at > LIFETIMES[purpose]:
        raise InvalidToken("token expired")
    return payload


def forget_keys() -> None:
    """Drop cached serializers and verified tokens (after the keys change)."""
    _serializer_for.cache_clear()
    _verified_with.cache_clear()
