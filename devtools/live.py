"""The app as `make run` serves it, in a child process on free loopback ports (browser tests, Lighthouse)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def live_app(timeout: float = 60.0, settings: dict[str, str] | None = None) -> Iterator[LiveApp]:
    """`python -m devtools.run` on free ports; yields its addresses once the drops API answers.
    ``settings``: ``DROPFRONT_*`` variables for the app (the caller's own are not passed on)."""
    port, db_port, studio_port = free_port(), free_port(), free_port()
    token = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPFRONT_")} | {"DROPFRONT_STUDIO_TOKEN": token}
    env |= settings or {}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "devtools.run", "--port", str(port)),
            *("--dynamodb-port", str(db_port), "--studio-port", str(studio_port)),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"devtools.run exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"{base}/api/drops", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield LiveApp(base, f"http://127.0.0.1:{studio_port}", token, f"http://127.0.0.1:{db_port}")
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
