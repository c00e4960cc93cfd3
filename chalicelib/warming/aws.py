"""The warm-up schedule on AWS, for a shopper function that uses SnapStart.

SnapStart and provisioned concurrency cannot share a function version, so a launch is served by a
twin: the same package as a second function without SnapStart (infra's ``ApiLaunch``), whose
``live`` alias is an Application Auto Scaling target. For each drop:

- ``<prefix><slug>@warm`` / ``@cool`` (Application Auto Scaling scheduled actions) raise the twin's
  provisioned concurrency to the window's instances when the window starts, and to none
  ``COOL_AFTER`` after it ends;
- ``<prefix><slug>-launch`` / ``-everyday`` (EventBridge Scheduler one-time schedules, API Gateway's
  ``UpdateStage`` as their target) point the API stage's ``shopper`` variable at the twin
  ``ROUTE_AFTER`` the window starts (its environments are initialized by then), and back at the
  SnapStart function when the window ends.

A failed switch leaves the shop on one of two working functions: the price of a miss is cold starts,
never an outage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.warming.ports import WarmWindow

NAMESPACE = "lambda"
DIMENSION = "lambda:function:ProvisionedConcurrency"
PREFIX = "dropfront-"
ROUTE_AFTER = timedelta(minutes=5)
COOL_AFTER = timedelta(minutes=5)
UPDATE_STAGE = "arn:aws:scheduler:::aws-sdk:apigateway:updateStage"
STAGE_VARIABLE = "shopper"


@dataclass(frozen=True, slots=True)
class LaunchRoute:
    """Where the API stage sends shoppers: its ``shopper`` variable names a function alias."""

    rest_api_id: str
    stage: str
    everyday: str  # the SnapStart function's alias, ``<name>:live``
    launch: str  # its twin's alias, with provisioned concurrency in a window
    schedule_group: str
    scheduler_role_arn: str  # what EventBridge Scheduler acts as: may update that stage only


def _at(moment: datetime) -> str:
    return f"at({moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"


def _moment(schedule: str) -> datetime:
    """``at(2026-12-06T09:50:00)`` (UTC) → the aware moment."""
    return datetime.fromisoformat(schedule.removeprefix("at(").removesuffix(")")).replace(tzinfo=UTC)


class ScheduledLaunch:
    """``WarmSchedule`` for the twin's scalable target ``resource_id`` (``function:<name>:live``)."""

    def __init__(self, scaling: Any, scheduler: Any, resource_id: str, route: LaunchRoute) -> None:
        self._scaling, self._scheduler, self._resource_id, self._route = scaling, scheduler, resource_id, route

    def _target(self) -> dict[str, str]:
        return {"ServiceNamespace": NAMESPACE, "ResourceId": self._resource_id, "ScalableDimension": DIMENSION}

    def schedule(self, window: WarmWindow) -> None:
        steps = (("warm", window.starts, window.instances), ("cool", window.ends + COOL_AFTER, 0))
        for step, at, instances in steps:
            self._scaling.put_scheduled_action(
                **self._target(),
                ScheduledActionName=f"{PREFIX}{window.drop}@{step}",
                Schedule=_at(at),
                Timezone="Etc/UTC",
                ScalableTargetAction={"MinCapacity": instances, "MaxCapacity": instances},
            )
        route, existing = self._route, self._schedule_names()
        for name, at, alias in (
            ("launch", window.starts + ROUTE_AFTER, route.launch),
            ("everyday", window.ends, route.everyday),
        ):
            switch = {
                "RestApiId": route.rest_api_id,
                "StageName": route.stage,
                "PatchOperations": [{"op": "replace", "path": f"/variables/{STAGE_VARIABLE}", "value": alias}],
            }
            schedule_name = f"{PREFIX}{window.drop}-{name}"
            schedule = {
                "Name": schedule_name,
                "GroupName": route.schedule_group,
                "ScheduleExpression": _at(at),
                "ScheduleExpressionTimezone": "Etc/UTC",
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "ActionAfterCompletion": "NONE",
                "Target": {"Arn": UPDATE_STAGE, "RoleArn": route.scheduler_role_arn, "Input": json.dumps(switch)},
            }
            if schedule_name in existing:
                self._scheduler.update_schedule(**schedule)
            else:
                self._scheduler.create_schedule(**schedule)

    def unschedule(self, drop: str) -> None:
        names = {f"{PREFIX}{drop}@warm", f"{PREFIX}{drop}@cool"}
        for action in self._actions():
            if action["ScheduledActionName"] in names:
                self._scaling.delete_scheduled_action(
                    **self._target(), ScheduledActionName=action["ScheduledActionName"]
                )
        existing = self._schedule_names()
        for name in (f"{PREFIX}{drop}-launch", f"{PREFIX}{drop}-everyday"):
            if name in existing:
                self._scheduler.delete_schedule(Name=name, GroupName=self._route.schedule_group)

    def windows(self) -> list[WarmWindow]:
        """Each drop whose warm-up and route switch are both scheduled, as its window."""
        steps: dict[str, dict[str, Any]] = {}
        for action in self._actions():
            drop, _, step = action["ScheduledActionName"].removeprefix(PREFIX).rpartition("@")
            steps.setdefault(drop, {})[step] = action
        routed = self._schedule_names()
        found = []
        for drop, pair in sorted(steps.items()):
            if {"warm", "cool"} <= pair.keys() and f"{PREFIX}{drop}-launch" in routed:
                warm, cool = pair["warm"], pair["cool"]
                instances = int(warm["ScalableTargetAction"]["MinCapacity"])
                found.append(
                    WarmWindow(drop, _moment(warm["Schedule"]), _moment(cool["Schedule"]) - COOL_AFTER, instances)
                )
        return found

    def _actions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pages = self._scaling.get_paginator("describe_scheduled_actions").paginate(
            ServiceNamespace=NAMESPACE, ResourceId=self._resource_id, ScalableDimension=DIMENSION
        )
        for page in pages:
            found += [a for a in page["ScheduledActions"] if a["ScheduledActionName"].startswith(PREFIX)]
        return found

    def _schedule_names(self) -> set[str]:
        names: set[str] = set()
        for page in self._scheduler.get_paginator("list_schedules").paginate(GroupName=self._route.schedule_group):
            names |= {s["Name"] for s in page["Schedules"]}
        return names
