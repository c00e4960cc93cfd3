"""The shop's port: what the edge tells us about a viewer, the counter a first visit adds to, and the
people who asked to hear when a drop opens or a size comes back."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # a landing page loads no outbox records
    from chalicelib.outbox.ports import QueuedMessage


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
    minted: str | None = None  # the sealed id the edge gave a visitor who came without a cookie


class CellCounter(Protocol):
    def add(self, slug: str, counts: Mapping[str, int]) -> None: ...


class SubscriptionState(StrEnum):
    PENDING = "pending"  # asked; waiting for the confirmation link to be opened
    CONFIRMED = "confirmed"
    NOTIFIED = "notified"  # told, once: the drop opened, or the size came back


@dataclass(frozen=True)
class Subscription:
    """Someone who asked to hear when a drop opens (``sku`` None), or when a size comes back."""

    drop: str
    email: str
    locale: str
    sku: str | None
    size: str | None
    state: SubscriptionState
    created_at: str

    @property
    def key(self) -> str:
        """Its id within the drop: what it waits for, and whose (the address as a digest)."""
        digest = hashlib.sha256(self.email.strip().lower().encode()).hexdigest()[:20]
        return f"{self.sku or '*'}#{self.size or '*'}#{digest}"


class SubscriptionStore(Protocol):
    def subscription(self, drop: str, key: str) -> Subscription | None: ...

    def subscribe(self, subscription: Subscription, confirm: QueuedMessage) -> bool: ...

    def confirm(self, drop: str, key: str, at_iso: str) -> bool: ...

    def waiting(self, drop: str) -> list[Subscription]: ...

    def notify(self, subscription: Subscription, message: QueuedMessage, at_iso: str) -> bool: ...
