"""The audit adapter: entries written inside the change's own transaction, read back newest first."""

from __future__ import annotations

from chalicelib.core.audit import AuditEntry, FieldChange
from chalicelib.store.audit import DynamoAudit, entry_put
from chalicelib.store.client import call


def test_entries_come_back_as_written_newest_first(table: str) -> None:
    first = AuditEntry("linen-lab", "ada", "drop", "name: Linen → Linen Lab", "2026-12-01T10:00:00Z")
    second = AuditEntry("linen-lab", "bo", "pricing", "override added", "2026-12-01T11:00:00Z")
    call("transact_write_items", TransactItems=[entry_put(table, first), entry_put(table, second)])
    assert DynamoAudit(table).log("linen-lab") == [second, first]
    assert DynamoAudit(table).log("winter-knit") == []


def test_the_changed_fields_come_back_with_their_entry(table: str) -> None:
    changes = (FieldChange("Price of TEE (EUR)", "30.00 EUR", "28.00 EUR"), FieldChange("Name (fr)", "", "Lin"))
    entry = AuditEntry("linen-lab", "ada", "drop", "Price of TEE (EUR), Name (fr)", "2026-12-01T10:00:00Z", changes)
    call("transact_write_items", TransactItems=[entry_put(table, entry)])
    assert DynamoAudit(table).log("linen-lab") == [entry]


def test_filters_by_person_and_kind_read_on_until_enough_match(table: str) -> None:
    """DynamoDB filters after it reads a page of ``Limit`` items, so a rare person's entries sit
    pages apart; the log keeps reading until it has ``limit`` of them or the partition ends."""
    entries = [
        AuditEntry(
            "linen-lab",
            "bo" if i % 10 == 0 else "ada",
            "pricing" if i % 4 == 0 else "drop",
            f"{i}",
            f"2026-12-01T10:{i:02d}:00Z",
        )
        for i in range(40)
    ]
    for start in range(0, 40, 20):
        call("transact_write_items", TransactItems=[entry_put(table, e) for e in entries[start : start + 20]])
    audit = DynamoAudit(table)
    newest_first = entries[::-1]
    assert audit.log("linen-lab", 3, who="bo") == [e for e in newest_first if e.who == "bo"][:3]
    assert audit.log("linen-lab", 10, who="bo") == [e for e in newest_first if e.who == "bo"]  # all 4
    both = audit.log("linen-lab", 50, who="bo", action="pricing")
    assert both == [e for e in newest_first if e.who == "bo" and e.action == "pricing"] and len(both) == 2
    assert audit.log("linen-lab", 50, who="nobody") == []
