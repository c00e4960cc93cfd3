"""Fail fast while DynamoDB does not answer: a short circuit breaker in front of every call.

When DynamoDB is unreachable each call waits out its connect and read timeouts, and every request
queues behind the ones already waiting (the catalog's reload holds a lock). After ``THRESHOLD``
calls in a row got no answer, the breaker opens: for ``OPEN_SECONDS`` every call fails at once with
``Unavailable`` (503, Retry-After). Then one call is let through to try; its answer closes the
breaker, its silence opens it again. One silent call alone (a lost packet) opens nothing. Answers
that are refusals (throttling, a failed condition) are answers: they never open it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from chalicelib.core.errors import Unavailable

OPEN_SECONDS = 1.0
THRESHOLD = 2


class Breaker:
    def __init__(
        self,
        open_seconds: float = OPEN_SECONDS,
        threshold: int = THRESHOLD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_seconds = open_seconds
        self._threshold = threshold
        self._silent = 0  # calls in a row that got no answer
        self._clock = clock
        self._open_until = 0.0
        self._trying = False  # a call is finding out whether DynamoDB answers again
        self._lock = threading.Lock()

    def before_call(self) -> None:
        """Refuse at once while open, or while another call is trying; else let this call go."""
        with self._lock:
            if not self._open_until:
                return
            if self._clock() < self._open_until or self._trying:
                raise Unavailable("DynamoDB is not answering; failing fast.", code="dynamodb_unreachable")
            self._trying = True

    def answered(self) -> None:
        with self._lock:
            self._open_until, self._trying, self._silent = 0.0, False, 0

    def inconclusive(self) -> None:
        """The call failed before DynamoDB could tell us anything (a bad parameter): an open breaker
        stays open, and the next call may try."""
        with self._lock:
            self._trying = False

    def unanswered(self) -> None:
        with self._lock:
            self._silent += 1
            self._trying = False
            if self._silent >= self._threshold:
                self._open_until = self._clock() + self._open_seconds


breaker = Breaker()
