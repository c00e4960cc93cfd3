"""Sell-through, which markdown stages read, counts what was sold: a hold sets units aside without
selling them (most of a launch's holds lapse), and a booking sells them."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib import wiring
from devtools.process import forget_process_state


def sell_through(sku: str) -> int:
    forget_process_state()  # a fresh process: no cached snapshot
    catalog = wiring.catalog()
    return catalog.stock(catalog.drop("linen-lab").drop).sell_through_bps(sku)


def hold(client: Client, qty: int) -> Any:
    visitor = client.http.get("/drops/linen-lab").headers["Set-Cookie"].split(";")[0]
    body = {"drop": "linen-lab", "popup": "paris-marais", "items": [{"sku": "TEE-ECRU", "size": "M", "qty": qty}]}
    return client.http.post(
        "/api/holds", headers={"Content-Type": "application/json", "Cookie": visitor}, body=json.dumps(body)
    )


def test_held_units_are_not_sold(client: Client) -> None:
    before = sell_through("TEE-ECRU")
    assert hold(client, 2).status_code == 201
    assert sell_through("TEE-ECRU") == before
