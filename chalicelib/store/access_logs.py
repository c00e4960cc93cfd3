"""CloudFront's standard access log files, as CloudFront delivers them to the logs bucket (gzip)."""

from __future__ import annotations

import gzip
from typing import Any

from chalicelib.config import settings


class S3AccessLogs:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    def lines(self, bucket: str, key: str) -> list[str]:
        """The file's lines (its ``#Version`` and ``#Fields`` header first)."""
        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client("s3", region_name=settings().region)
        body = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return (gzip.decompress(body) if key.endswith(".gz") else body).decode("utf-8").splitlines()
