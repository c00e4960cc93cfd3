"""The store's client: built lazily, and DynamoDB trouble becomes a 503 with Retry-After, never a 500."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from chalice.test import Client

from chalicelib.store.client import dynamodb
from devtools.process import forget_process_state
from tests.conftest import html_of, json_of


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def throttled(request: Any, **_: Any) -> AWSResponse:
    body = (
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException",'
        b'"message":"Rate of requests exceeds the allowed throughput."}'
    )
    return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, _Body(body))


def timed_out(request: Any, **_: Any) -> None:
    raise ReadTimeoutError(endpoint_url=request.url)


@pytest.fixture
def inject(client: Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Callable[..., Any]], list[int]]]:
    """Install a botocore ``before-send`` handler ahead of moto's; returns a list that counts attempts."""
    monkeypatch.setenv("DROPFRONT_DYNAMODB_MAX_ATTEMPTS", "2")
    forget_process_state()
    handlers = []

    def install(handler: Callable[..., Any]) -> list[int]:
        attempts: list[int] = []

        def counted(**kwargs: Any) -> Any:
            attempts.append(1)
            return handler(**kwargs)

        dynamodb().meta.events.register_first("before-send.dynamodb.Query", counted)
        handlers.append(counted)
        return attempts

    yield install
    for handler in handlers:
        dynamodb().meta.events.unregister("before-send.dynamodb.Query", handler)


@pytest.mark.parametrize("failure", [throttled, timed_out], ids=["throttled", "timed_out"])
def test_dynamodb_trouble_is_a_503_with_retry_after(client: Client, inject: Any, failure: Callable[..., Any]) -> None:
    attempts = inject(failure)
    api = client.http.get("/api/drops/linen-lab")
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "1"
    assert json_of(api)["error"]["code"] == "unavailable"
    assert len(attempts) == 2  # standard-mode retries ran, within DROPFRONT_DYNAMODB_MAX_ATTEMPTS

    page = client.http.get("/drops/linen-lab?lang=ja")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "1"
    assert "混み合って" in html_of(page)


def test_missing_table_is_unavailable_not_a_crash(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_TABLE", "no-such-table")
    forget_process_state()
    assert client.http.get("/api/drops").status_code == 503


def test_importing_the_app_builds_no_aws_client() -> None:
    """boto3, botocore's session and the X-Ray SDK stay out of import (powertools imports bare botocore)."""
    code = "import sys, app; print(*(m in sys.modules for m in ('boto3', 'botocore.session', 'aws_xray_sdk.core')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "False"]


def test_building_the_dynamodb_client_does_not_import_boto3() -> None:
    """botocore builds the shopper's client: boto3's resource layer and s3transfer are never loaded."""
    code = (
        "import sys; from chalicelib.store.client import dynamodb; dynamodb(); "
        "print('boto3' in sys.modules, 's3transfer' in sys.modules, 'botocore.session' in sys.modules)"
    )
    env = {**os.environ, "DROPFRONT_DYNAMODB_ENDPOINT": "http://127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.split() == ["False", "False", "True"]


def test_client_honours_endpoint_timeouts_and_retry_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_DYNAMODB_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("DROPFRONT_DYNAMODB_READ_TIMEOUT", "1.5")
    forget_process_state()
    client = dynamodb()
    assert client.meta.endpoint_url == "http://127.0.0.1:1"
    assert client.meta.config.read_timeout == 1.5
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert dynamodb() is client  # built once


def test_unreachable_endpoint_is_unavailable(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_DYNAMODB_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("DROPFRONT_DYNAMODB_MAX_ATTEMPTS", "1")
    forget_process_state()
    response = client.http.get("/api/drops")
    assert response.status_code == 503
