"""An audit entry: who changed what in a drop, and when, with each changed field before and after.
Written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field as a person reads it (label and values in the merchant's units), before and after."""

    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    slug: str  # the drop changed
    who: str  # the studio principal's subject
    action: str  # what kind of change: "drop", "import", "pricing" …
    summary: str  # what changed, for a person to read
    at: str  # ISO 8601 UTC
    changes: tuple[FieldChange, ...] = ()


def changed_fields(
    before: Mapping[str, str], after: Mapping[str, str], label: Callable[[str], str]
) -> tuple[FieldChange, ...]:
    """The fields whose value differs between two renderings of the same form, in the form's order,
    labelled; a field only one side has counts as changed from or to nothing."""
    names = [*before, *(name for name in after if name not in before)]
    return tuple(
        FieldChange(label(name), before.get(name, ""), after.get(name, ""))
        for name in names
        if before.get(name, "") != after.get(name, "")
    )
