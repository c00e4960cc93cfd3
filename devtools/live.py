"""The app as `make run` serves it, in a child process on free loopback ports (browser tests, Lighthouse)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class LiveApp:
    url: str  # the shopper app
    studio_url: str
    studio_token: str
    dynamodb_url: str  # the embedded DynamoDB it runs on (table ``dropfront``), for audits


# For many clients at once: the embedded DynamoDB serves one request at a time, so under a crowd a
# call can wait longer than the 2 s read timeout; botocore would then retry it, and moto, unlike
# DynamoDB, ignores a transaction's ClientRequestToken, so the retry of one that had applied fails
# its own condition. A long timeout keeps queueing from posing as a race.
CROWD_SETTINGS = {"DROPFRONT_DYNAMODB_READ_TIMEOUT": "60"}


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def loopback(port: int) -> str:
    return f"http://127.0.0.1:{port}"


class ExitedEarly(RuntimeError):
    """A server stopped before it answered."""


def wait_until_answers(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    """Until ``url`` answers 200: ``ExitedEarly`` if ``process`` exits first, ``TimeoutError`` once
    ``time.monotonic()`` passes ``deadline``."""
    while not answers(url):
        if process.poll() is not None:
            raise ExitedEarly(f"exited with {process.returncode} before {url} answered")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer in time")
        time.sleep(0.1)


@contextmanager
def live_app(timeout: float = 60.0, settings: dict[str, str] | None = None) -> Iterator[LiveApp]:
    """`python -m devtools.run` on free ports; yields its addresses once the shop and the studio answer.
    ``settings``: ``DROPFRONT_*`` variables for the app (the caller's own are not passed on)."""
    token = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPFRONT_")} | {"DROPFRONT_STUDIO_TOKEN": token}
    env |= settings or {}
    process, live = launch(env, token, timeout)
    try:
        yield live
    finally:
        stop(process)


def launch(env: dict[str, str], token: str, timeout: float) -> tuple[subprocess.Popen[bytes], LiveApp]:
    """devtools.run, up. A port found free can be taken before the child binds it, so an early exit
    is tried again on fresh ports, three launches in all."""
    for _ in range(2):
        with suppress(ExitedEarly):
            return launch_once(env, token, timeout)
    return launch_once(env, token, timeout)


def launch_once(env: dict[str, str], token: str, timeout: float) -> tuple[subprocess.Popen[bytes], LiveApp]:
    port, db_port, studio_port = free_port(), free_port(), free_port()
    live = LiveApp(loopback(port), loopback(studio_port), token, loopback(db_port))
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "devtools.run", "--port", str(port)),
                *("--dynamodb-port", str(db_port), "--studio-port", str(studio_port)),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        try:
            # The shop and the studio are separate servers, up in either order.
            for url in (f"{live.url}/api/drops", f"{live.studio_url}/studio/login"):
                wait_until_answers(url, process, deadline)
        except ExitedEarly as error:
            stop(process)
            log.seek(0)
            raise ExitedEarly(f"devtools.run {error}:\n{log.read().decode(errors='replace')[-2000:]}") from None
        except BaseException:
            stop(process)
            raise
    return process, live


def stop(process: subprocess.Popen[bytes]) -> None:
    """Interrupt devtools.run and its servers (its process group), as Ctrl-C would."""
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:  # the group has already gone
        process.wait()
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
