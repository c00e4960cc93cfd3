"""A pop-up's markdown stage over HTTP: its door counter and till move the price of what is booked
there (and only there), and every decision records the signals it read, so it replays exactly."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.catalog.ports import PopupDay
from chalicelib.pricing.logged import logged_entries
from chalicelib.pricing.policy import Guardrail, MarkdownStage, PricingPolicy
from chalicelib.pricing.replay import recorded, replay_decision
from chalicelib.tills.sales import issue_till_token
from devtools.process import forget_process_state
from tests.conftest import earlier_today, json_of
from tests.tills.test_sales import post

PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
PARIS_STAGE = MarkdownStage(
    after_hours=0,
    sell_through_below_bps=10_000,
    discount_bps=1000,
    location="paris-marais",
    footfall_over=20,
    conversion_below_bps=1000,
)
"""At Paris, from the start, while fewer than 1 in 10 through the door buys at the till and more
than 20 came today: 10 % off there."""


@pytest.fixture
def paris_markdown(client: Client) -> PricingPolicy:
    current = wiring.catalog_store().pricing_policy("linen-lab")
    assert current is not None
    policy = PricingPolicy(
        version=current.version + 1,
        guardrail=Guardrail(max_discount_bps=3000, min_margin_bps=5000, max_discounted_units_per_visitor=20),
        markdowns=(PARIS_STAGE,),
    )
    wiring.catalog_store().put_pricing_policy("linen-lab", policy)
    forget_process_state()
    return policy


def booked_price(client: Client, popup: str, zone: ZoneInfo, caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    """Book one TEE-ECRU M for pickup at ``popup`` tomorrow (a fresh process: signals read anew);
    its unit price, the rules it came from and the booking's logged pricing."""
    forget_process_state()
    day = (datetime.now(zone) + timedelta(days=1)).date().isoformat()
    slot = json_of(client.http.get(f"/api/popups/{popup}/slots?date={day}"))["slots"][0]["start"]
    body = {
        "drop": "linen-lab",
        "popup": popup,
        "slot_start": slot,
        "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}],
        "contact": {"name": "Ada Lovelace", "email": f"ada-{uuid.uuid4().hex[:8]}@example.org"},
    }
    caplog.clear()
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    response = client.http.post("/api/pickups", headers=headers, body=json.dumps(body))
    assert response.status_code == 201, response.body
    (line,) = [r for r in caplog.records if r.getMessage() == "request"]
    pricing = json.loads(json.dumps(line.pricing))  # type: ignore[attr-defined]  # as the line is written
    (tee,) = [d for d in logged_entries(pricing) if d["sku"] == "TEE-ECRU"]
    return {"unit_minor": json_of(response)["items"][0]["unit_minor"], "rules": tee["rules"], "pricing": pricing}


def test_a_pop_ups_door_counter_and_till_move_its_price_and_only_there(
    client: Client, paris_markdown: PricingPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    till = issue_till_token(wiring.tills(), "paris-marais", datetime.now(PARIS))
    quiet = booked_price(client, "paris-marais", PARIS, caplog)
    assert (quiet["unit_minor"], quiet["rules"]) == (4100, ["list_price"])  # nobody came yet

    now = earlier_today(PARIS, 15)  # the pop-up's today, which its stage reads
    readings = [{"at": now.isoformat(), "entered": 30}]
    assert json_of(post(client, "/api/pos/footfall", till, {"popup": "paris-marais", "counts": readings})) == {
        "recorded": 1,
        "duplicates": 0,
    }
    busy = booked_price(client, "paris-marais", PARIS, caplog)
    assert (busy["unit_minor"], busy["rules"]) == (3690, ["markdown:paris-marais:0h"])
    elsewhere = booked_price(client, "brooklyn", NEW_YORK, caplog)
    assert elsewhere["rules"] == ["list_price"]  # Paris's signals price Paris only

    sold = [
        {"sale_id": f"s-{i}", "sku": "TEE-ECRU", "size": "S", "qty": 1, "price_minor": 4100, "sold_at": now.isoformat()}
        for i in range(3)
    ]
    rung = json_of(post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": sold}))
    assert rung["applied"] == ["s-0", "s-1", "s-2"], rung
    drop = wiring.catalog().drop("linen-lab").drop
    day = now.date()
    assert wiring.catalog_store().popup_day("linen-lab", drop.generation, "paris-marais", day) == PopupDay(30, 3)
    assert wiring.catalog_store().popup_day("linen-lab", drop.generation, "brooklyn", day) == PopupDay(0, 0)
    converting = booked_price(client, "paris-marais", PARIS, caplog)
    assert converting["rules"] == ["list_price"]  # 3 of 30 bought: conversion is not under 10 %

    for logged, signals in ((busy, (30, 0)), (converting, (30, 3))):
        pricing = logged["pricing"]
        assert pricing["shared"]["location"] == "paris-marais"
        assert (pricing["shared"]["footfall"], pricing["shared"]["till_units"]) == signals
        for entry in logged_entries(pricing):
            decision = recorded(pricing, entry["decision_id"])
            assert decision is not None and replay_decision(decision, paris_markdown).matches


def test_without_a_stage_that_reads_them_the_signals_are_not_read(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """The demo's Paris stage waits 24 h, but reads the signals from the start (they are recorded);
    a booking at Brooklyn, which has no stage, reads nothing."""
    paris = booked_price(client, "paris-marais", PARIS, caplog)["pricing"]["shared"]
    assert (paris["location"], paris["footfall"], paris["till_units"]) == ("paris-marais", 0, 0)
    brooklyn = booked_price(client, "brooklyn", NEW_YORK, caplog)["pricing"]["shared"]
    assert (brooklyn["location"], brooklyn["footfall"], brooklyn["till_units"]) == ("brooklyn", None, None)
