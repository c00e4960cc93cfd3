"""`devtools.live`: the app as `make run` serves it is handed to a test only once the shop and the
studio both answer, and a port taken between being found free and being bound costs a retry, not a
failed test (CI once saw the studio refuse the first request of a test that signed in at once)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

import devtools.live
from devtools.live import answers, free_port, live_app


def test_a_port_taken_before_the_studio_binds_it_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        # The first launch's studio gets the taken port (shop, DynamoDB, studio are picked in turn).
        ports: Iterator[int] = iter([free_port(), free_port(), taken])
        monkeypatch.setattr(devtools.live, "free_port", lambda: next(ports, None) or free_port())
        with live_app() as app:
            assert not app.studio_url.endswith(f":{taken}")
            assert answers(f"{app.url}/api/drops")
            assert answers(f"{app.studio_url}/studio/login")
