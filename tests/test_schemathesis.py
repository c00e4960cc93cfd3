"""Schemathesis against the shopper API over a socket: every operation in openapi.yaml, every check,
a fixed seed and a bounded number of cases. Zero server errors, zero schema violations. The till's
operations run again with a real till token, so their bodies reach the code behind the 401."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib import wiring
from chalicelib.tills.sales import issue_till_token
from devtools.live import LiveApp, live_app
from devtools.process import forget_process_state
from devtools.run import LOCAL_SECRET

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def live() -> Iterator[LiveApp]:
    with live_app() as app:
        yield app


TILL_OPERATIONS = ("tillSales", "tillReturns", "tillFootfall", "tryOnQueue", "actOnTryOn", "markPickup")


def schemathesis(live: LiveApp, *options: str) -> str:
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        "openapi.yaml",
        f"--url={live.url}",
        "--checks=all",
        "--max-examples=20",
        "--seed=1",
        "--phases=examples,fuzzing",
        "--generation-deterministic",
        *options,
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert "failure" not in summary.split("SUMMARY")[-1].lower(), summary
    return summary


def test_every_operation_passes_every_check(live: LiveApp) -> None:
    assert "30 passed" in schemathesis(live)


@pytest.fixture
def till_token(live: LiveApp, monkeypatch: pytest.MonkeyPatch) -> str:
    """A till token for a demo pop-up, issued into the live app's database and signed with its key."""
    monkeypatch.setenv("DROPFRONT_DYNAMODB_ENDPOINT", live.dynamodb_url)
    monkeypatch.setenv("DROPFRONT_TABLE", "dropfront")  # the table `make run` seeds
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", LOCAL_SECRET)
    forget_process_state()
    return issue_till_token(wiring.tills(), "paris-marais", datetime.now(UTC))


def test_the_tills_operations_pass_every_check_with_a_real_till_token(live: LiveApp, till_token: str) -> None:
    chosen = [f"--include-operation-id={operation}" for operation in TILL_OPERATIONS]
    summary = schemathesis(live, *chosen, f"--header=Authorization: Bearer {till_token}")
    assert f"{len(TILL_OPERATIONS)} passed" in summary
