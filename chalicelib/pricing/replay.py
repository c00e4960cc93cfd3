"""Replaying a recorded pricing decision. Pure: the view's logged ``pricing`` field and the policy
version it names give the decision again, and whether it still comes out the same.

Every view logs its decisions in its request's one log line (``telemetry.offers_shown``): the
inputs they share once, then each SKU's. ``recorded`` finds one decision there and rebuilds its
self-contained record; ``replay_decision`` recomputes it and lists what differs (nothing, unless
the engine changed since, or the record was altered).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.pricing.engine import Decision, expand, replay
from chalicelib.pricing.logged import logged_entries
from chalicelib.pricing.policy import PricingPolicy

DECISION_ID = re.compile(r"^[0-9a-f]{32}-\d{1,3}$")
"""A view's id and the decision's place among its SKUs."""


class DecisionLog(Protocol):
    def view_of(self, decision_id: str) -> Mapping[str, Any] | None:
        """The ``pricing`` field of the logged view that made the decision; None if none is found."""


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    decision_id: str
    drop: str
    policy_version: int | None
    record: dict[str, Any]  # what ``engine.replay`` takes: the outcome and its ``inputs``

    @property
    def outcome(self) -> Decision:
        """The decision as it was recorded."""
        record = self.record
        return Decision(
            record["price_minor"],
            record["discount_bps"],
            tuple(record["rules"]),
            tuple((rule, bps) for rule, bps in record["candidates"]),
            tuple(record["clamps"]),
        )


@dataclass(frozen=True, slots=True)
class Replay:
    recorded: RecordedDecision
    recomputed: Decision
    differences: tuple[str, ...]  # the outcome's fields that came out otherwise

    @property
    def matches(self) -> bool:
        return not self.differences


def recorded(view: Mapping[str, Any], decision_id: str) -> RecordedDecision | None:
    """The decision ``decision_id`` among a logged view's, as a self-contained record."""
    records = expand(view["shared"], view.get("policy_version"), logged_entries(view))
    found = next((record for record in records if record["decision_id"] == decision_id), None)
    if found is None:
        return None
    return RecordedDecision(decision_id, str(view.get("drop", "")), view.get("policy_version"), found)


OUTCOME = ("price_minor", "discount_bps", "rules", "candidates", "clamps")


def replay_decision(decision: RecordedDecision, policy: PricingPolicy | None) -> Replay:
    """Recompute the decision with ``policy`` (the version it names; None: the guardrail failed
    closed then) and compare each part of the outcome."""
    again, was = replay(decision.record, policy), decision.outcome
    return Replay(decision, again, tuple(part for part in OUTCOME if getattr(was, part) != getattr(again, part)))
