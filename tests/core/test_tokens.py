from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import cast

import pytest
import time_machine
from itsdangerous import URLSafeTimedSerializer

from chalicelib.core.tokens import LIFETIMES, InvalidToken, Purpose, sign, signing_keys, verify
from devtools.process import forget_process_state


def test_round_trip() -> None:
    assert verify(Purpose.OFFER, sign(Purpose.OFFER, {"s": "A"})) == {"s": "A"}


def test_a_flipped_byte_is_refused() -> None:
    token = sign(Purpose.VISITOR, "visitor-123")
    index = len(token) // 2
    flipped = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    with pytest.raises(InvalidToken):
        verify(Purpose.VISITOR, flipped)


def test_another_purposes_token_is_refused() -> None:
    with pytest.raises(InvalidToken):
        verify(Purpose.OFFER, sign(Purpose.VISITOR, "visitor-123"))


def test_expired_tokens_are_refused() -> None:
    with time_machine.travel("2030-01-01T00:00:00Z", tick=False):
        token = sign(Purpose.OFFER, {"s": "A"})
    with time_machine.travel("2030-01-01T00:00:00Z", tick=False) as traveller:
        traveller.shift(LIFETIMES[Purpose.OFFER] + timedelta(seconds=1))
        with pytest.raises(InvalidToken):
            verify(Purpose.OFFER, token)


def test_keys_rotate_oldest_to_newest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "old")
    forget_process_state()
    old_token = sign(Purpose.VISITOR, "visitor-123")
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "old,new")
    forget_process_state()
    assert verify(Purpose.VISITOR, old_token) == "visitor-123"  # still accepted while listed
    new_token = sign(Purpose.VISITOR, "visitor-123")
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "new")
    forget_process_state()
    assert verify(Purpose.VISITOR, new_token) == "visitor-123"
    with pytest.raises(InvalidToken):
        verify(Purpose.VISITOR, old_token)  # rotated out


@pytest.mark.parametrize("garbage", ["", ".", "a.b.c", "€€€", "x" * 10_000])
def test_garbage_is_refused_not_raised(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify(Purpose.VISITOR, garbage)


def test_settings_require_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "")
    forget_process_state()
    with pytest.raises(RuntimeError, match="DROPFRONT_SECRET_KEYS"):
        sign(Purpose.VISITOR, "x")


def test_repeated_verification_still_checks_expiry_and_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core.tokens import verify_repeated

    with time_machine.travel("2030-01-01T00:00:00Z", tick=False) as traveller:
        token = sign(Purpose.VISITOR, {"v": "visitor-123"})
        assert verify_repeated(Purpose.VISITOR, token) == {"v": "visitor-123"}
        assert verify_repeated(Purpose.VISITOR, token) == {"v": "visitor-123"}  # remembered
        traveller.shift(LIFETIMES[Purpose.VISITOR] + timedelta(seconds=1))
        with pytest.raises(InvalidToken):
            verify_repeated(Purpose.VISITOR, token)  # the remembered signature does not outlive the token
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "another-key")
    forget_process_state()
    fresh = sign(Purpose.VISITOR, {"v": "visitor-456"})
    assert verify_repeated(Purpose.VISITOR, fresh)["v"] == "visitor-456"
    with pytest.raises(InvalidToken):
        verify_repeated(Purpose.VISITOR, token[:-2] + "zz")


def test_keys_from_secrets_manager_rotate_without_breaking_issued_tokens(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In AWS the keys live in a secret read through Powertools Parameters (cached for minutes):
    appending a key makes it the signer while tokens signed by the older one still verify."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    clear_caches = cast(Callable[[], None], parameters.clear_caches)  # untyped in Powertools
    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = secrets.create_secret(Name="dropfront-test-keys", SecretString="first-key")["ARN"]
    monkeypatch.delenv("DROPFRONT_SECRET_KEYS")
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS_SECRET", arn)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    clear_caches()
    forget_process_state()
    before = sign(Purpose.CANCEL, {"b": "ABC"})
    secrets.put_secret_value(SecretId=arn, SecretString="first-key,second-key")
    assert verify(Purpose.CANCEL, sign(Purpose.CANCEL, {"b": "X"})) == {"b": "X"}  # cached: still the first key
    clear_caches()  # what the cache's five minutes do
    after = sign(Purpose.CANCEL, {"b": "ABC"})
    assert after != before and verify(Purpose.CANCEL, before) == verify(Purpose.CANCEL, after) == {"b": "ABC"}
    secrets.put_secret_value(SecretId=arn, SecretString="second-key")
    clear_caches()
    with pytest.raises(InvalidToken):
        verify(Purpose.CANCEL, before)


def test_a_short_payload_is_not_compressed_and_reads_as_itsdangerous_writes_it() -> None:
    """Tokens read the same with or without the zlib try: ours verify with itsdangerous's own
    serializer, and its tokens (compressed ones too) verify with ours."""
    keys, salt = list(signing_keys()), f"dropfront.{Purpose.OFFER.value}"
    stock = URLSafeTimedSerializer(keys, salt=salt)
    short = {"s": "TEE-ECRU", "p": 3690, "c": "EUR", "v": "a" * 32, "d": "b" * 32 + "-0"}
    ours = sign(Purpose.OFFER, short)
    assert not ours.startswith(".") and stock.loads(ours) == short
    shrinkable = {"v": "a" * 120}  # zlib would shrink it, but it is too short to be worth the try
    assert stock.dumps(shrinkable).startswith(".") and not sign(Purpose.OFFER, shrinkable).startswith(".")
    long = {"rules": ["segment:gold"] * 40}  # repetitive: zlib shrinks it, as before
    assert sign(Purpose.OFFER, long).startswith(".") and stock.dumps(long).startswith(".")
    assert verify(Purpose.OFFER, stock.dumps(long)) == long
    assert verify(Purpose.OFFER, stock.dumps(short)) == short
