"""The tills adapter: till tokens as typed records, revoked once; footfall readings counted once."""

from __future__ import annotations

from datetime import date

from chalicelib.store import schema
from chalicelib.store.client import call
from chalicelib.store.tills import DynamoTills
from chalicelib.tills.ports import FootfallReading, Till


def test_till_tokens_round_trip_and_stay_revoked_at_the_first_time(table: str) -> None:
    store = DynamoTills(table)
    store.put_till("t1", "paris-marais", "2026-12-01T09:00:00Z")
    store.put_till("t2", "paris-marais", "2026-12-01T10:00:00Z")
    store.revoke_till("t1", "2026-12-01T11:00:00Z")
    store.revoke_till("t1", "2026-12-01T12:00:00Z")
    assert store.till("t1") == Till("t1", "paris-marais", "2026-12-01T09:00:00Z", "2026-12-01T11:00:00Z")
    assert [till.id for till in store.tills("paris-marais")] == ["t2", "t1"]
    assert store.till("nope") is None


def test_footfall_readings_count_once_and_their_days_add_up(table: str) -> None:
    store = DynamoTills(table)
    day, next_day = date(2026, 12, 1), date(2026, 12, 2)
    first = [FootfallReading("2026-12-01T10:00:00Z", 12, day), FootfallReading("2026-12-01T11:00:00Z", 3, day)]
    assert store.add_footfall("paris-marais", first) == 2
    later = [first[0], FootfallReading("2026-12-02T09:00:00Z", 5, next_day), first[1]]
    assert store.add_footfall("paris-marais", later) == 1  # the chunk is written again without the two it had
    totals = {
        d: call("get_item", TableName=table, Key=schema.footfall_key("paris-marais", f"DAY#{d}"))["Item"]["entered"]
        for d in ("2026-12-01", "2026-12-02")
    }
    assert totals == {"2026-12-01": {"N": "15"}, "2026-12-02": {"N": "5"}}
