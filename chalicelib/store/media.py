"""Media adapters: product pictures into the S3 media bucket (CloudFront serves it under ``/media``),
or, locally, into ``media/`` (which ``make run`` serves the same way)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.config import settings

CACHE_FOREVER = "public, max-age=31536000, immutable"  # a picture's name carries its content's hash


class S3Media:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    def put(self, path: str, data: bytes, content_type: str) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client("s3", region_name=settings().region)
        self._client.put_object(
            Bucket=self._bucket, Key=path, Body=data, ContentType=content_type, CacheControl=CACHE_FOREVER
        )


class LocalMedia:
    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def put(self, path: str, data: bytes, content_type: str) -> None:
        target = (self._folder / path).resolve()
        if self._folder.resolve() not in target.parents:
            raise ValueError(f"{path} is outside the media folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
