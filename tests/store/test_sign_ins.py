"""The sign-ins adapter: an ended session stays ended until it would have expired; login attempts are
taken up to the limit and no further, and given back."""

from __future__ import annotations

import time

from chalicelib.store.sign_ins import DynamoSignIns


def test_an_ended_session_is_refused_until_it_would_have_expired(table: str) -> None:
    store = DynamoSignIns(table)
    assert not store.session_ended("s1")
    store.end_session("s1", int(time.time()) + 3600)
    store.end_session("s2", int(time.time()) - 1)  # past its expiry: DynamoDB may not have removed it yet
    assert store.session_ended("s1") and not store.session_ended("s2")


def test_attempts_are_taken_up_to_the_limit_per_address_and_window(table: str) -> None:
    store = DynamoSignIns(table)
    until = int(time.time()) + 600
    assert [store.take_login_attempt("a", 7, 3, until) for _ in range(4)] == [True, True, True, False]
    assert store.take_login_attempt("a", 8, 3, until) and store.take_login_attempt("b", 7, 3, until)
    store.give_back_login_attempt("a", 7)
    assert store.take_login_attempt("a", 7, 3, until) and not store.take_login_attempt("a", 7, 3, until)
