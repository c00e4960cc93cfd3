"""Replaying a pricing decision from the studio (``/studio/drops/{slug}/replay?decision=<id>`` and
its JSON twin) and from the command line (``make replay DECISION=<id>``): the logged view that made
it is found (CloudWatch Logs in AWS, `make run`'s log file locally), the decision is recomputed
against the policy version it names, and the page says, in the merchant's units, what went in,
what came out, and whether it still comes out the same."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from chalicelib import wiring
from chalicelib.core.errors import DomainError, InvalidInput, NotFound, Unavailable
from chalicelib.core.models import DropCatalog
from chalicelib.i18n.formatting import money
from chalicelib.pricing.engine import Decision, conversion_bps
from chalicelib.pricing.replay import DECISION_ID, Replay, recorded, replay_decision
from chalicelib.studio.drop_views import studio_drop
from chalicelib.studio.drops import local_time
from chalicelib.studio.web import json_answer, page, principal_of
from chalicelib.web.errors import status_for

BPS_PER_PERCENT = 100


def find_and_replay(decision_id: str) -> Replay:
    """The decision recomputed; ``InvalidInput`` for what is not a decision id, ``NotFound`` when no
    logged view holds it, ``Unavailable`` where no log is configured."""
    if not DECISION_ID.match(decision_id):
        raise InvalidInput(
            "That is not a decision id: it looks like 32 hexadecimal digits, a dash and a number.",
            code="invalid_decision",
        )
    log = wiring.decision_log()
    if log is None:
        raise Unavailable("No decision log is configured here, so decisions cannot be looked up.", code="no_log")
    view = log.view_of(decision_id)
    found = recorded(view, decision_id) if view is not None else None
    if found is None:
        raise NotFound(
            "No logged view holds this decision (the shop's logs are kept for a limited time).",
            code="unknown_decision",
        )
    policy = wiring.catalog_store().pricing_policy(found.drop, found.policy_version) if found.policy_version else None
    return replay_decision(found, policy)


def _percent(bps: int) -> str:
    return f"{bps / BPS_PER_PERCENT:g} %"


def _outcome(decision: Decision, amount: Callable[[int], str]) -> dict[str, str]:
    """A decision's outcome in words: its price, depth, the discounts it weighed, the clamps."""
    return {
        "price": amount(decision.price_minor),
        "discount": _percent(decision.discount_bps),
        "candidates": ", ".join(f"{rule} {_percent(bps)}" for rule, bps in decision.candidates) or "none",
        "guardrail clamps": ", ".join(decision.clamps) or "none",
        "price from": ", ".join(decision.rules) or "list price",
    }


def _signals(inputs: Mapping[str, Any]) -> dict[str, str]:
    """The pop-up's signals a decision priced with, when it was priced at one (older records lack them)."""
    location = inputs.get("location")
    if not location:
        return {"priced at": "online (no pop-up chosen yet)"}
    footfall, till_units = inputs.get("footfall"), inputs.get("till_units")
    there = inputs.get("location_sell_through_bps")
    signals = {
        "priced at": location,
        f"sell-through at {location}": "not read" if there is None else _percent(there),
        "footfall there today": "not read" if footfall is None else f"{footfall} people",
        "sold at its till today": "not read" if till_units is None else f"{till_units} units",
    }
    if (conversion := conversion_bps(till_units, footfall)) is not None:
        signals["conversion there today"] = _percent(conversion)
    return signals


def described(replay: Replay, zone: str) -> dict[str, Any]:
    """The replay in the merchant's units and ``zone``'s time, for the page and the JSON API alike."""
    record, again = replay.recorded.record, replay.recomputed
    inputs = record["inputs"]
    currency = inputs["currency"]

    def amount(minor: int) -> str:
        return money(minor, currency, "en")

    return {
        "decision_id": replay.recorded.decision_id,
        "drop": replay.recorded.drop,
        "policy_version": replay.recorded.policy_version,
        "inputs": {
            "when": local_time(datetime.fromisoformat(inputs["now"]), zone),
            "SKU": inputs["sku"],
            "list price": amount(inputs["list_minor"]),
            "unit cost": amount(inputs["cost_minor"]),
            "sell-through": _percent(inputs["sell_through_bps"]),
            "segments": ", ".join(inputs["segments"]) or "none",
            "experiment cell": inputs["cell"] or "none",
            "hours since the drop opened": str(inputs["hours_since_start"]),
            "budgets left": ", ".join(f"{rule}: {amount(left)}" for rule, left in inputs["budgets_left"]) or "none",
            **_signals(inputs),
        },
        "recorded": _outcome(replay.recorded.outcome, amount),
        "recomputed": _outcome(again, amount),
        "matches": replay.matches,
        "differences": list(replay.differences),
    }


async def replay_page(request: Request) -> Response:
    """The drop's replay page: a form for a decision id, and the decision replayed (or why not)."""
    principal = principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    wanted = request.query_params.get("decision", "").strip()
    result: dict[str, Any] | None = None
    problem, status = None, 200
    if wanted:
        try:
            result = _for_drop(described(find_and_replay(wanted), _zone(catalog)), catalog.drop.slug)
        except DomainError as refused:
            problem, status = str(refused), status_for(refused)
    return page(
        "replay.html",
        status=status,
        principal=principal,
        catalog=catalog,
        wanted=wanted,
        result=result,
        problem=problem,
    )


async def replay_api(request: Request) -> Response:
    """``GET /studio/api/drops/{slug}/decisions/{decision_id}``: the replay as JSON."""
    principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    replayed = find_and_replay(request.path_params["decision_id"])
    return json_answer(_for_drop(described(replayed, _zone(catalog)), catalog.drop.slug))


def _zone(catalog: DropCatalog) -> str:
    return catalog.drop.default_market.timezone


def _for_drop(result: dict[str, Any], slug: str) -> dict[str, Any]:
    if result["drop"] != slug:
        raise NotFound(f"That decision was made for the drop {result['drop']}.", code="unknown_decision")
    return result
