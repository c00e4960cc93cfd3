from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from chalicelib import wiring
from chalicelib.tokens import LIFETIMES, InvalidToken, Purpose, sign, verify


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
    wiring.reset()
    old_token = sign(Purpose.VISITOR, "visitor-123")
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "old,new")
    wiring.reset()
    assert verify(Purpose.VISITOR, old_token) == "visitor-123"  # still accepted while listed
    new_token = sign(Purpose.VISITOR, "visitor-123")
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "new")
    wiring.reset()
    assert verify(Purpose.VISITOR, new_token) == "visitor-123"
    with pytest.raises(InvalidToken):
        verify(Purpose.VISITOR, old_token)  # rotated out


@pytest.mark.parametrize("garbage", ["", ".", "a.b.c", "€€€", "x" * 10_000])
def test_garbage_is_refused_not_raised(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify(Purpose.VISITOR, garbage)


def test_settings_require_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "")
    wiring.reset()
    with pytest.raises(RuntimeError, match="DROPFRONT_SECRET_KEYS"):
        sign(Purpose.VISITOR, "x")


def test_repeated_verification_still_checks_expiry_and_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.tokens import verify_repeated

    with time_machine.travel("2030-01-01T00:00:00Z", tick=False) as traveller:
        token = sign(Purpose.VISITOR, {"v": "visitor-123"})
        assert verify_repeated(Purpose.VISITOR, token) == {"v": "visitor-123"}
        assert verify_repeated(Purpose.VISITOR, token) == {"v": "visitor-123"}  # remembered
        traveller.shift(LIFETIMES[Purpose.VISITOR] + timedelta(seconds=1))
        with pytest.raises(InvalidToken):
            verify_repeated(Purpose.VISITOR, token)  # the remembered signature does not outlive the token
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", "another-key")
    wiring.reset()
    fresh = sign(Purpose.VISITOR, {"v": "visitor-456"})
    assert verify_repeated(Purpose.VISITOR, fresh)["v"] == "visitor-456"
    with pytest.raises(InvalidToken):
        verify_repeated(Purpose.VISITOR, token[:-2] + "zz")
