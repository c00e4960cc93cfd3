"""The edge's key value store: CloudFront KeyValueStore in AWS (through boto3; its API signs with
SigV4A, so the functions that write it carry awscrt in a layer), or, locally, a JSON file the local
edge's function reads (``devtools/local_edge.py``)."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chalicelib.store.client import error_code

CONFLICT_RETRIES = 5


class KeyValueStoreEdge:
    """Every write names the store's ETag as read just before it; a write that lost a race to another
    writer (the minute sweep and a studio save) reads the new ETag and tries again."""

    def __init__(self, arn: str, client: Any = None) -> None:
        self._arn = arn
        self._client = client

    def _kvs(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client("cloudfront-keyvaluestore", region_name="us-east-1")
        return self._client

    def entries(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for page in self._kvs().get_paginator("list_keys").paginate(KvsARN=self._arn):
            found.update({item["Key"]: item["Value"] for item in page.get("Items", [])})
        return found

    def _write(self, operation: str, **arguments: str) -> None:
        for attempt in range(CONFLICT_RETRIES):
            etag = self._kvs().describe_key_value_store(KvsARN=self._arn)["ETag"]
            try:
                getattr(self._kvs(), operation)(KvsARN=self._arn, IfMatch=etag, **arguments)
                return
            except Exception as error:
                if error_code(error) != "ConflictException" or attempt == CONFLICT_RETRIES - 1:
                    raise

    def put(self, key: str, value: str) -> None:
        self._write("put_key", Key=key, Value=value)

    def delete(self, key: str) -> None:
        self._write("delete_key", Key=key)


class FileEdgeStore:
    """The local edge's store: a JSON object in a file, replaced whole on each write (so the function,
    which rereads it when it changes, never sees half of one); writers (the shop's sweep, the studio)
    take turns through a lock file."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def entries(self) -> dict[str, str]:
        try:
            loaded = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in loaded.items()}

    def _replace(self, entries: dict[str, str]) -> None:
        handle, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=".edge-store-")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(entries, file, sort_keys=True)
        os.replace(temporary, self._path)

    @contextmanager
    def _turn(self) -> Iterator[None]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.with_suffix(".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def put(self, key: str, value: str) -> None:
        with self._turn():
            self._replace(self.entries() | {key: value})

    def delete(self, key: str) -> None:
        with self._turn():
            self._replace({k: v for k, v in self.entries().items() if k != key})
