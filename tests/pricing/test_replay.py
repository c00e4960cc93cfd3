"""Replaying a logged pricing decision: found in the view's log line (a file locally, CloudWatch Logs
in AWS), recomputed against the policy version it names, and compared."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.pricing.logged import DECISION_FIELDS, logged_entries
from chalicelib.pricing.replay import recorded, replay_decision
from chalicelib.shop.visitors import campaign_link
from chalicelib.store.decision_log import CloudWatchDecisionLog, FileDecisionLog


def logged_view(client: Client, caplog: pytest.LogCaptureFixture, query: str = "") -> dict[str, Any]:
    """A real landing view's request log line, as the shop writes it (JSON, with its ``pricing``)."""
    caplog.clear()
    assert client.http.get(f"/drops/linen-lab{query}").status_code == 200
    (line,) = [r for r in caplog.records if r.getMessage() == "request"]
    written: dict[str, Any] = json.loads(json.dumps({"message": "request", "pricing": line.pricing}))  # type: ignore[attr-defined]
    return written


def write_log(tmp_path: Path, *views: dict[str, Any]) -> Path:
    path = tmp_path / "shop.log"
    path.write_text("not json\n" + "".join(json.dumps(view) + "\n" for view in views), encoding="utf-8")
    return path


def test_every_decision_of_a_logged_view_replays_the_same(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    view = logged_view(client, caplog, "?c=" + campaign_link(tier="gold"))
    pricing = view["pricing"]
    policy = wiring.catalog_store().pricing_policy("linen-lab", pricing["policy_version"])
    entries = logged_entries(pricing)
    assert entries and any(d["candidates"] for d in entries)  # discounts to replay
    for entry in entries:
        decision = recorded(pricing, entry["decision_id"])
        assert decision is not None and replay_decision(decision, policy).matches
    altered = json.loads(json.dumps(pricing))
    altered["decisions"][0][DECISION_FIELDS.index("price_minor")] -= 100  # lower than the rules give
    changed = recorded(altered, entries[0]["decision_id"])
    assert changed is not None and replay_decision(changed, policy).differences == ("price_minor",)
    assert recorded(pricing, "0" * 32 + "-0") is None


def test_a_line_written_before_the_rows_still_replays(
    client: Client, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Lines logged before decision 113 hold a dict per decision, without ``fields``."""
    view = logged_view(client, caplog, "?c=" + campaign_link(tier="gold"))
    pricing = view["pricing"]
    older = {key: value for key, value in pricing.items() if key != "fields"}
    older["decisions"] = [dict(zip(pricing["fields"], row, strict=True)) for row in pricing["decisions"]]
    policy = wiring.catalog_store().pricing_policy("linen-lab", pricing["policy_version"])
    for entry in older["decisions"]:
        decision = recorded(older, entry["decision_id"])
        assert decision is not None and replay_decision(decision, policy).matches
    wanted = older["decisions"][2]["decision_id"]
    assert FileDecisionLog(write_log(tmp_path, {"message": "request", "pricing": older})).view_of(wanted) == older


def test_the_file_and_cloudwatch_logs_find_the_view(
    client: Client, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    view = logged_view(client, caplog)
    wanted = logged_entries(view["pricing"])[1]["decision_id"]
    assert FileDecisionLog(write_log(tmp_path, view)).view_of(wanted) == view["pricing"]
    assert FileDecisionLog(tmp_path / "missing.log").view_of(wanted) is None
    logs = boto3.client("logs", region_name=settings().region)
    logs.create_log_group(logGroupName="/aws/lambda/api")
    logs.create_log_stream(logGroupName="/aws/lambda/api", logStreamName="s")
    lines = [{"message": "request"}, view]
    now_ms = int(time.time() * 1000)  # CloudWatch refuses events from the future
    events = [{"timestamp": now_ms + i, "message": json.dumps(line)} for i, line in enumerate(lines)]
    logs.put_log_events(logGroupName="/aws/lambda/api", logStreamName="s", logEvents=events)
    assert CloudWatchDecisionLog(logs, ("/aws/lambda/api",)).view_of(wanted) == view["pricing"]
    assert CloudWatchDecisionLog(logs, ("/aws/lambda/api",)).view_of("f" * 32 + "-0") is None
