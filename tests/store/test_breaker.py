"""Fail fast while DynamoDB does not answer, and recover by itself when it does again.

The app talks to moto's server through a loopback proxy that can go silent: it accepts connections
and never answers, as an unreachable endpoint behind a load balancer does. ``bench.outage`` measures
the same at production timeouts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from chalicelib.core.errors import Unavailable
from chalicelib.store.breaker import OPEN_SECONDS, THRESHOLD, Breaker
from chalicelib.store.client import dynamodb
from devtools.embedded_dynamodb import EmbeddedDynamoDB
from devtools.process import forget_process_state
from devtools.seed import ensure_table, seed
from devtools.silent_proxy import SilenceableProxy
from tests.conftest import TABLE

ATTEMPTS = 2  # botocore's, per call


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_on_silence_lets_one_call_try_and_closes_on_an_answer() -> None:
    clock = Clock()
    breaker = Breaker(open_seconds=1.0, threshold=2, clock=clock)
    breaker.before_call()
    breaker.unanswered()
    breaker.before_call()  # one silent call alone opens nothing
    breaker.answered()
    breaker.unanswered()
    breaker.before_call()
    breaker.unanswered()  # the second in a row does
    with pytest.raises(Unavailable):
        breaker.before_call()
    clock.now += 1.0
    breaker.before_call()  # this one tries
    with pytest.raises(Unavailable):
        breaker.before_call()  # while it does, the others still fail fast
    breaker.unanswered()
    clock.now += 0.5
    with pytest.raises(Unavailable):
        breaker.before_call()
    clock.now += 0.5
    breaker.before_call()
    breaker.inconclusive()  # the try failed for its own reasons: still open, and another call may try
    breaker.before_call()
    with pytest.raises(Unavailable):
        breaker.before_call()
    breaker.answered()
    breaker.before_call()
    breaker.before_call()


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SilenceableProxy]:
    with EmbeddedDynamoDB() as server:
        proxy = SilenceableProxy(int(server.endpoint.rsplit(":", 1)[1]))
        monkeypatch.setenv("DROPFRONT_DYNAMODB_ENDPOINT", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("DROPFRONT_DYNAMODB_READ_TIMEOUT", "0.4")
        monkeypatch.setenv("DROPFRONT_DYNAMODB_CONNECT_TIMEOUT", "0.4")
        monkeypatch.setenv("DROPFRONT_DYNAMODB_MAX_ATTEMPTS", str(ATTEMPTS))
        forget_process_state()
        ensure_table(dynamodb(), TABLE)
        seed(TABLE, datetime.now(UTC))
        yield proxy
        proxy.close()


def test_requests_fail_fast_while_dynamodb_is_silent_and_recover_when_it_answers(
    proxied: SilenceableProxy, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from app import app

    with Client(app, project_dir=str(tmp_path_factory.mktemp("no-chalice-config"))) as client:
        assert client.http.get("/api/drops/linen-lab/stock").status_code == 200
        proxied.silent = True
        times, answers = [], []
        for _ in range(40):
            started = time.perf_counter()
            response = client.http.get("/api/drops/linen-lab/stock")
            times.append(time.perf_counter() - started)
            answers.append((response.status_code, response.headers.get("Retry-After")))
        assert set(answers) == {(503, "1")}
        # Only the calls that open the breaker (THRESHOLD of them) wait, each its ATTEMPTS: each attempt is
        # one connection the silence holds, and each waits at most its read timeout and botocore's backoff.
        assert proxied.silenced == THRESHOLD * ATTEMPTS
        waited = sorted(times, reverse=True)
        assert waited[0] <= ATTEMPTS * (0.4 + 0.4) + 1.0
        assert all(t <= 0.1 for t in waited[THRESHOLD:]), waited[:5]
        proxied.silent = False
        back = time.perf_counter()
        while client.http.get("/api/drops/linen-lab/stock").status_code != 200:
            assert time.perf_counter() - back < 5, "did not recover by itself"
        # One open window, then a trial; that trial may meet a pooled connection the silence left dead,
        # time out (ATTEMPTS × 0.4 s) and open the breaker once more before the next trial answers.
        assert time.perf_counter() - back < 2 * OPEN_SECONDS + ATTEMPTS * 0.4 + 0.2
