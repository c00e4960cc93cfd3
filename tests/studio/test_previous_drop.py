"""The demo's previous drop: its fortnight leaves every number the studio shows something real,
consistent with itself (stock never oversold, sales matching their counters), once per table."""

from __future__ import annotations

import re
from datetime import datetime

from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.store import schema
from chalicelib.store.client import dynamodb
from devtools.history import SLUG, seed_history
from devtools.process import forget_process_state
from devtools.seed import DemoDrop
from tests.conftest import TABLE
from tests.studio.conftest import AUTH, log_in
from tests.studio.test_numbers_views import tiles_of

NUMBERS = f"/studio/drops/{SLUG}/numbers"


def test_the_fortnight_fills_every_chart_and_stays_consistent(studio: TestClient, seeded_at: datetime) -> None:
    assert seed_history(TABLE, seeded_at)
    assert not seed_history(TABLE, seeded_at)  # once per table
    forget_process_state()
    stock = dynamodb().query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": schema.stock_partition(SLUG, 0)}},
    )["Items"]
    sold = 0
    for item in stock:
        on_hand, held, taken, available = (int(item[name]["N"]) for name in ("on_hand", "held", "sold", "available"))
        assert available == on_hand - held - taken >= 0 and taken >= 0, item["sk"]
        counted = sum(int(v["N"]) for k, v in item.items() if k.split("@")[0] in ("booked", "till_sold", "exchanged"))
        back = sum(int(v["N"]) for k, v in item.items() if k.startswith("returned@"))
        assert taken == counted - back, item["sk"]  # every unit sold is a counted booking, sale or exchange
        sold += taken
    assert sold > 100

    page = studio.get(NUMBERS, headers=log_in(studio))
    assert page.status_code == 200 and "No data yet" not in page.text  # every chart has something
    for chart in ("sell-through", "qr-funnel", "discount-depth", "cell-conversion", "returns", "return-reasons"):
        rows = studio.get(f"{NUMBERS}/{chart}.csv", headers=AUTH).text.strip().splitlines()
        assert len(rows) > 1, chart
    tiles = tiles_of(studio, "", SLUG)
    assert tiles["Revenue"].startswith("€") and int(tiles["Units sold"].replace(",", "")) > 100
    assert all(tiles[name] != "0.0 %" for name in ("Sell-through", "Try-ons per QR scan", "Returned within 30 days"))
    lyon, berlin = tiles_of(studio, "popup=lyon-presquile", SLUG), tiles_of(studio, "popup=berlin-mitte", SLUG)
    assert int(lyon["Units sold"]) + int(berlin["Units sold"]) == int(tiles["Units sold"])
    customers = wiring.numbers().counts(SLUG)
    assert customers["customers_returning@lyon-presquile"] + customers["customers_returning@berlin-mitte"] > 0


def test_the_demo_drops_are_left_as_they_were(demo: list[DemoDrop], seeded_at: datetime) -> None:
    before = wiring.numbers().counts("linen-lab")
    seed_history(TABLE, seeded_at)
    assert wiring.numbers().counts("linen-lab") == before


def test_the_studio_home_says_which_drops_ended(studio: TestClient, seeded_at: datetime) -> None:
    seed_history(TABLE, seeded_at)
    home = studio.get("/studio/", headers=log_in(studio)).text
    states = dict(re.findall(r'<tr data-drop="([^"]+)">.*?<td data-label="State">([^<]+)</td>', home, re.S))
    assert states == {SLUG: "ended", "linen-lab": "on sale", "winter-knit": "published, not open yet"}
