"""The audit adapter: entries written inside the change's own transaction, read back newest first."""

from __future__ import annotations

from chalicelib.core.audit import AuditEntry
from chalicelib.store.audit import DynamoAudit, entry_put
from chalicelib.store.client import call


def test_entries_come_back_as_written_newest_first(table: str) -> None:
    first = AuditEntry("linen-lab", "ada", "drop", "name: Linen → Linen Lab", "2026-12-01T10:00:00Z")
    second = AuditEntry("linen-lab", "bo", "pricing", "override added", "2026-12-01T11:00:00Z")
    call("transact_write_items", TransactItems=[entry_put(table, first), entry_put(table, second)])
    assert DynamoAudit(table).log("linen-lab") == [second, first]
    assert DynamoAudit(table).log("winter-knit") == []
