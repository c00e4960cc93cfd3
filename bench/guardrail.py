"""The guardrail's cost per SKU: one pricing decision (candidates, stacking, clamps) for the demo policy,
alone (a till's sale, a booking: the decision's terms worked out for it) and in a 20-SKU view (the
terms worked out once for the view, as a page's ``Pricer`` does)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.pricing.engine import PricingInputs, decide, decide_with, terms
from devtools.seed import demo_drops

VIEW_SKUS = 20


def measure(rounds: int = 20_000) -> dict[str, Any]:
    demo = demo_drops(datetime.now(UTC))[0]
    policy = demo.pricing
    assert policy is not None
    sku = demo.catalog.skus[0]
    inputs = PricingInputs(
        sku=sku.sku,
        currency="EUR",
        list_minor=sku.list_prices["EUR"],
        cost_minor=sku.costs["EUR"],
        segments=("cohort:ana", "near:paris-marais", "tier:gold", "visit:returning"),
        cell="launch-depth:five-off",
        cell_discount_bps=500,
        hours_since_start=130,
        sell_through_bps=2000,
        budgets_left=(("creator-ana", 50000),),
        now=datetime.now(UTC),
    )
    alone, in_view = [], []
    for _ in range(20):
        started = time.perf_counter()
        for _ in range(rounds // 20):
            decide(inputs, policy)
        alone.append((time.perf_counter() - started) / (rounds // 20))
        started = time.perf_counter()
        views = rounds // 20 // VIEW_SKUS
        for _ in range(views):
            shared = terms(inputs, policy)
            for _ in range(VIEW_SKUS):
                decide_with(shared, inputs)
        in_view.append((time.perf_counter() - started) / (views * VIEW_SKUS))
    decision = decide(inputs, policy)
    return {
        "us_per_sku": round(statistics.median(alone) * 1e6, 2),
        "us_per_sku_in_view": round(statistics.median(in_view) * 1e6, 2),
        "candidates": len(decision.candidates),
        "clamps": list(decision.clamps),
    }
