"""The edge's key value store, as the app writes it (CloudFront KeyValueStore in AWS, a file locally)."""

from __future__ import annotations

from typing import Protocol


class EdgeStore(Protocol):
    def entries(self) -> dict[str, str]: ...

    def put(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...
