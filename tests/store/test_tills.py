"""The tills adapter: till tokens as typed records, revoked once; footfall readings counted once."""

from __future__ import annotations

from datetime import date

from chalicelib.store.tills import DynamoTills
from chalicelib.tills.ports import Till


def test_till_tokens_round_trip_and_stay_revoked_at_the_first_time(table: str) -> None:
    store = DynamoTills(table)
    store.put_till("t1", "paris-marais", "2026-12-01T09:00:00Z")
    store.put_till("t2", "paris-marais", "2026-12-01T10:00:00Z")
    store.revoke_till("t1", "2026-12-01T11:00:00Z")
    store.revoke_till("t1", "2026-12-01T12:00:00Z")
    assert store.till("t1") == Till("t1", "paris-marais", "2026-12-01T09:00:00Z", "2026-12-01T11:00:00Z")
    assert [till.id for till in store.tills("paris-marais")] == ["t2", "t1"]
    assert store.till("nope") is None


def test_a_footfall_reading_counts_once(table: str) -> None:
    store = DynamoTills(table)
    assert store.add_footfall("paris-marais", "2026-12-01T10:00:00Z", 12, date(2026, 12, 1))
    assert not store.add_footfall("paris-marais", "2026-12-01T10:00:00Z", 12, date(2026, 12, 1))
