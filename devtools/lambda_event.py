"""API Gateway (REST) proxy events and a Lambda context, to invoke the app as Lambda does."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl


class LambdaContext:
    function_name = "dropfront-prod-api_handler"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:dropfront-prod-api_handler"
    log_group_name = "/aws/lambda/dropfront"
    log_stream_name = "local"

    def __init__(self, remaining_ms: int = 10_000) -> None:
        self.aws_request_id = uuid.uuid4().hex
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def rest_event(
    resource: str, path_parameters: dict[str, str] | None = None, query: str = "", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A GET event for ``resource`` (e.g. ``/drops/{slug}``) with its path parameters filled in."""
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace("{" + name + "}", value)
    pairs = parse_qsl(query, keep_blank_values=True)
    headers = {"Host": "shop.example", "Accept": "text/html", **(headers or {})}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(pairs) or None,
        "multiValueQueryStringParameters": {k: [v for key, v in pairs if key == k] for k, _ in pairs} or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": "GET",
            "path": f"/api{path}",
            "requestId": uuid.uuid4().hex,
            "stage": "api",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
