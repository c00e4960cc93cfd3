"""The shop's port: what the edge tells us about a viewer, and the counter a first visit adds to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Edge:
    """What the edge (CloudFront) tells us about the viewer; ``web.request.edge`` reads it from headers."""

    country: str | None
    timezone: str | None
    accept_language: str | None
    cookie: str | None
    host: str | None
    scheme: str | None
    latitude: float | None
    longitude: float | None
    city: str | None


class CellCounter(Protocol):
    def add(self, slug: str, counts: Mapping[str, int]) -> None: ...
