"""Each lifecycle state is its own honest page: teaser → live → sold_out | ended."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from chalice.test import Client

from chalicelib.store import schema
from devtools.seed import DemoDrop
from tests.conftest import TABLE, html_of, json_of


def sell_everything(slug: str, demo: DemoDrop) -> None:
    from chalicelib.store.client import dynamodb

    for row in demo.stock:
        dynamodb().update_item(
            TableName=TABLE,
            Key=schema.stock_key(slug, 0, row.sku, row.size, row.location),
            UpdateExpression="SET sold = on_hand, available = :zero",
            ExpressionAttributeValues={":zero": {"N": "0"}},
        )


def test_teaser_counts_down_to_the_start_in_local_time(client: Client, demo: list[DemoDrop]) -> None:
    response = client.http.get("/drops/winter-knit?lang=fr", headers={"CloudFront-Viewer-Time-Zone": "Asia/Tokyo"})
    html = html_of(response)
    assert response.status_code == 200
    assert "Bientôt" in html
    assert "data-countdown" in html and 'datetime="' in html
    starts = demo[1].catalog.drop.starts_at
    from zoneinfo import ZoneInfo

    tokyo = starts.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo.hour:02d}:00" in html  # the start in the viewer's own zone
    assert "dans 3 jours" in html
    assert '<li class="size"><b>' in html and 'name="size"' not in html  # sizes shown, nothing offered yet


def test_live_page_offers_sizes(client: Client) -> None:
    html = html_of(client.http.get("/drops/linen-lab"))
    assert "Live now" in html
    assert 'class="size in_stock pick"' in html and 'action="/drops/linen-lab/reserve?lang=en"' in html


def test_sold_out_page_is_honest(client: Client, demo: list[DemoDrop]) -> None:
    sell_everything("linen-lab", demo[0])
    html = html_of(client.http.get("/drops/linen-lab?lang=es"))
    assert "Agotado" in html
    assert "ha encontrado dueño" in html
    assert 'class="size in_stock' not in html and "/reserve" not in html
    assert json_of(client.http.get("/api/drops/linen-lab/stock"))["status"] == "sold_out"
    assert "linen-lab" not in {d["slug"] for d in json_of(client.http.get("/api/drops"))}


def test_ended_page_after_the_end(client: Client, seeded_at: datetime, demo: list[DemoDrop]) -> None:
    ends = demo[0].catalog.drop.ends_at
    with time_machine.travel(ends + timedelta(minutes=1), tick=False):
        response = client.http.get("/drops/linen-lab?lang=de")
        html = html_of(response)
        assert response.status_code == 200
        assert "Beendet" in html and "Dieser Drop endete am" in html
        assert 'class="price"' not in html
        slugs = {d["slug"] for d in json_of(client.http.get("/api/drops"))}
        assert "linen-lab" not in slugs


def test_teaser_turns_live_at_the_start(client: Client, demo: list[DemoDrop]) -> None:
    starts = demo[1].catalog.drop.starts_at
    with time_machine.travel(starts - timedelta(seconds=1), tick=False):
        assert json_of(client.http.get("/api/drops/winter-knit"))["drop"]["status"] == "teaser"
    with time_machine.travel(starts, tick=False):
        assert json_of(client.http.get("/api/drops/winter-knit"))["drop"]["status"] == "live"
