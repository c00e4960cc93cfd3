"""Browser tests: the app as `make run` serves it (a real process on loopback), driven by Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

from devtools.live import LiveApp, live_app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Every `expect` waits for its condition, so a longer cap costs nothing when the page is quick. The
# default 5 s is too short on a loaded machine: a reserve is a POST and the hold page it leads to,
# and on the embedded DynamoDB each took over a second under CI's two workers (each with its
# Chromium, app and emulator), one stop's CI failed on exactly that.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def live() -> Iterator[LiveApp]:
    with live_app() as app:
        yield app


@pytest.fixture(scope="session")
def live_url(live: LiveApp) -> str:
    return live.url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
