"""An audit entry: who changed what in a drop, and when. Written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AuditEntry:
    slug: str  # the drop changed
    who: str  # the studio principal's subject
    action: str  # what kind of change: "drop", "import", "pricing" …
    summary: str  # what changed, for a person to read
    at: str  # ISO 8601 UTC
