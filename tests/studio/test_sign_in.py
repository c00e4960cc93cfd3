"""Signing in to the studio: only from its own pages, a limit on wrong tokens per address (taken in
one conditional write, so a burst cannot slip past it), and a logout that ends the session on the
server, not only in the browser."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.core.errors import RateLimited, Unauthorized
from chalicelib.studio import auth
from devtools.live import CROWD_SETTINGS, live_app
from tests.studio.conftest import HTML, TOKEN, csrf_of, log_in


def test_a_login_posted_from_another_site_is_refused(studio: TestClient) -> None:
    refused = studio.post("/studio/login", data={"token": TOKEN}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    assert refused.json()["error"]["code"] == "cross_site"
    ours = studio.post("/studio/login", data={"token": TOKEN}, headers={"Origin": "https://studio.example.com"})
    assert ours.status_code == 303 and ours.headers["set-cookie"].startswith(auth.SESSION_COOKIE)


MID_WINDOW = datetime(2026, 12, 2, 9, 2, 30, tzinfo=UTC)  # 150 s into a window


def test_wrong_tokens_are_limited_per_address_then_the_window_passes(
    studio: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wiring, "utcnow", lambda: MID_WINDOW)
    for _ in range(auth.LOGIN_FAILURES):
        assert studio.post("/studio/login", data={"token": "guess"}).status_code == 401
    # Used up: even the right token waits (a guesser learns nothing), told how long, on the login page.
    refused = studio.post("/studio/login", data={"token": TOKEN}, headers=HTML)
    assert refused.status_code == 429 and "set-cookie" not in refused.headers
    assert refused.headers["retry-after"] == "150"
    assert "Too many wrong tokens from this address" in refused.text and 'id="token"' in refused.text
    # Another address is not held up, and the next window starts afresh.
    sign_ins, now = wiring.sign_ins(), MID_WINDOW.timestamp()
    assert auth.log_in(TOKEN, "192.0.2.7", sign_ins, now).subject == "dev"
    with pytest.raises(RateLimited):
        auth.log_in(TOKEN, "testclient", sign_ins, now)
    assert auth.log_in(TOKEN, "testclient", sign_ins, now + auth.LOGIN_WINDOW_SECONDS).subject == "dev"


def test_right_tokens_do_not_count_against_the_limit(studio: TestClient) -> None:
    sign_ins, now = wiring.sign_ins(), time.time()
    for _ in range(auth.LOGIN_FAILURES * 2):
        auth.log_in(TOKEN, "198.51.100.1", sign_ins, now)
    for _ in range(auth.LOGIN_FAILURES):
        with pytest.raises(Unauthorized):
            auth.log_in("guess", "198.51.100.1", sign_ins, now)
    with pytest.raises(RateLimited):
        auth.log_in(TOKEN, "198.51.100.1", sign_ins, now)


def test_logging_out_ends_the_session_on_the_server(studio: TestClient) -> None:
    session = log_in(studio)
    home = studio.get("/studio/", headers=session | HTML)
    assert home.status_code == 200
    out = studio.post("/studio/logout", data={"csrf": csrf_of(home.text)}, headers=session)
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    # The old cookie, kept by someone who copied it, no longer works, in the browser or the API.
    assert studio.get("/studio/", headers=session | HTML).headers["location"] == "/studio/login"
    refused = studio.get("/studio/api/outbox", headers=session)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "session_ended"
    assert studio.get("/studio/", headers=log_in(studio) | HTML).status_code == 200  # a new one does


def test_a_burst_of_guesses_over_a_socket_gets_exactly_the_limit() -> None:
    def guess(url: str) -> int:
        body = urllib.parse.urlencode({"token": "guess"}).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{url}/studio/login", data=body), timeout=30) as r:
                return int(r.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    with live_app(settings=CROWD_SETTINGS) as live, ThreadPoolExecutor(max_workers=16) as pool:
        began = time.time()
        answers = Counter(pool.map(guess, [live.studio_url] * 48))
        windows = len({int(at) // auth.LOGIN_WINDOW_SECONDS for at in (began, time.time())})
    assert answers[401] + answers[429] == 48
    if windows == 1:  # exactly the limit: every guess past it refused
        assert answers[401] == auth.LOGIN_FAILURES
    else:  # across a window's end the next window takes the guesses after it: up to the limit again
        assert auth.LOGIN_FAILURES <= answers[401] <= auth.LOGIN_FAILURES * windows
