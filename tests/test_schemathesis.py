"""Schemathesis against the shopper API over a socket: every operation in openapi.yaml, every check,
a fixed seed and a bounded number of cases. Zero server errors, zero schema violations."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.live import LiveApp, live_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def live() -> Iterator[LiveApp]:
    with live_app() as app:
        yield app


def test_every_operation_passes_every_check(live: LiveApp) -> None:
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
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert "29 passed" in summary and "failure" not in summary.split("SUMMARY")[-1].lower(), summary
