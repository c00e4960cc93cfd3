"""The launch warm-up as AWS keeps it (moto): for each drop, the twin's provisioned concurrency raised
and lowered by Application Auto Scaling, and the API stage switched to the twin and back by
EventBridge Scheduler; moved when the drop moves, gone when cleared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.warming.aws import DIMENSION, NAMESPACE, UPDATE_STAGE, LaunchRoute, ScheduledLaunch
from chalicelib.warming.ports import WarmWindow

TARGET = "function:dropfront-dev-ApiLaunch:live"
ROUTE = LaunchRoute(
    rest_api_id="a1b2c3",
    stage="api",
    everyday="dropfront-dev-Api:live",
    launch="dropfront-dev-ApiLaunch:live",
    schedule_group="dropfront-dev-launches",
    scheduler_role_arn="arn:aws:iam::123456789012:role/launch-switch",
)


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        scaling = boto3.client("application-autoscaling", region_name="eu-west-1")
        scaling.register_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=TARGET, ScalableDimension=DIMENSION, MinCapacity=0, MaxCapacity=50
        )
        scheduler = boto3.client("scheduler", region_name="eu-west-1")
        scheduler.create_schedule_group(Name=ROUTE.schedule_group)
        yield scaling, scheduler


def launch(clients: tuple[Any, Any]) -> ScheduledLaunch:
    return ScheduledLaunch(*clients, TARGET, ROUTE)


def window(slug: str, day: int, instances: int = 10) -> WarmWindow:
    return WarmWindow(
        slug, datetime(2026, 12, day, 8, 50, tzinfo=UTC), datetime(2026, 12, day, 10, 0, tzinfo=UTC), instances
    )


def test_a_window_warms_the_twin_then_routes_to_it_and_back(clients: tuple[Any, Any]) -> None:
    scaling, scheduler = clients
    launch(clients).schedule(window("linen-lab", 12))
    actions = {
        a["ScheduledActionName"]: a
        for a in scaling.describe_scheduled_actions(ServiceNamespace=NAMESPACE)["ScheduledActions"]
    }
    assert actions["dropfront-linen-lab@warm"]["Schedule"] == "at(2026-12-12T08:50:00)"
    assert actions["dropfront-linen-lab@warm"]["ScalableTargetAction"] == {"MinCapacity": 10, "MaxCapacity": 10}
    assert actions["dropfront-linen-lab@cool"]["Schedule"] == "at(2026-12-12T10:05:00)"  # after the route back
    assert actions["dropfront-linen-lab@cool"]["ScalableTargetAction"] == {"MinCapacity": 0, "MaxCapacity": 0}
    to_launch = scheduler.get_schedule(Name="dropfront-linen-lab-launch", GroupName=ROUTE.schedule_group)
    back = scheduler.get_schedule(Name="dropfront-linen-lab-everyday", GroupName=ROUTE.schedule_group)
    assert to_launch["ScheduleExpression"] == "at(2026-12-12T08:55:00)"  # its environments are up by then
    assert back["ScheduleExpression"] == "at(2026-12-12T10:00:00)"
    assert to_launch["Target"]["Arn"] == UPDATE_STAGE and to_launch["Target"]["RoleArn"] == ROUTE.scheduler_role_arn
    switch = json.loads(to_launch["Target"]["Input"])
    assert switch == {
        "RestApiId": "a1b2c3",
        "StageName": "api",
        "PatchOperations": [{"op": "replace", "path": "/variables/shopper", "value": "dropfront-dev-ApiLaunch:live"}],
    }
    assert json.loads(back["Target"]["Input"])["PatchOperations"][0]["value"] == "dropfront-dev-Api:live"
    assert launch(clients).windows() == [window("linen-lab", 12)]


def test_moving_a_drop_moves_its_window_and_clearing_removes_it(clients: tuple[Any, Any]) -> None:
    schedule = launch(clients)
    schedule.schedule(window("linen-lab", 12))
    schedule.schedule(window("winter-knit", 20, instances=4))
    schedule.schedule(window("linen-lab", 14))
    assert schedule.windows() == [window("linen-lab", 14), window("winter-knit", 20, instances=4)]
    _, scheduler = clients
    moved = scheduler.get_schedule(Name="dropfront-linen-lab-launch", GroupName=ROUTE.schedule_group)
    assert moved["ScheduleExpression"] == "at(2026-12-14T08:55:00)"
    schedule.unschedule("linen-lab")
    assert schedule.windows() == [window("winter-knit", 20, instances=4)]
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=ROUTE.schedule_group)["Schedules"]}
    assert names == {"dropfront-winter-knit-launch", "dropfront-winter-knit-everyday"}
