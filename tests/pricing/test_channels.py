"""An experiment cell can vary its discount by channel: a cell priced for the pop-up gives its
discount on the QR try-on page (and the booking after a try-on), while the drop's own pages show
its visitors what the baseline cell pays, and the other way round."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core import records
from chalicelib.core.tokens import Purpose, sign
from chalicelib.pricing.experiments import assign
from chalicelib.pricing.policy import PricingPolicy
from chalicelib.tryon.tags import Tag, tag_url
from tests.conftest import html_of


def five_off_at(channel: str) -> PricingPolicy:
    """The demo's policy with launch-depth's five-off cell priced for ``channel``, as its next version."""
    store = wiring.catalog_store()
    policy = store.pricing_policy("linen-lab")
    assert policy is not None
    raw = json.loads(records.dump_json(policy))
    for experiment in raw["experiments"]:
        for cell in experiment["cells"]:
            if cell["name"] == "five-off":
                cell["channel"] = channel
    changed = records.validate(PricingPolicy, {**raw, "version": policy.version + 1})
    store.put_pricing_policy("linen-lab", changed)
    wiring.catalog.cache_clear()
    return changed


def visitor_in(policy: PricingPolicy, label: str) -> str:
    """A returning visitor's cookie whose id hashes into the cell ``label``."""
    while True:
        visitor = secrets.token_urlsafe(12)
        if any(a.label == label for a in assign(visitor, policy.experiments)):
            return f"dfv={sign(Purpose.VISITOR, {'v': visitor})}"


def prices(client: Client, cookie: str) -> tuple[int, int]:
    """OVR-SAND's price on the drop's JSON (online) and on its QR try-on page at the Marais (pop-up)."""
    online = json.loads(client.http.get("/api/drops/linen-lab", headers={"Cookie": cookie}).body)
    (sand,) = [p for p in online["products"] if p["sku"] == "OVR-SAND"]
    page = html_of(client.http.get(tag_url("", Tag("paris-marais", "OVR-SAND")), headers={"Cookie": cookie}))
    at_popup = re.search(r'class="price" data-price-minor="(\d+)"', page)
    assert at_popup
    return int(sand["offer"]["price_minor"]), int(at_popup[1])


@pytest.mark.parametrize(
    ("channel", "online_off", "popup_off"),
    [("popup", False, True), ("online", True, False), ("any", True, True)],
)
def test_a_cells_discount_applies_in_its_channel_only(
    client: Client, channel: str, online_off: bool, popup_off: bool
) -> None:
    policy = five_off_at(channel)
    baseline = prices(client, visitor_in(policy, "launch-depth:control"))
    online, at_popup = prices(client, visitor_in(policy, "launch-depth:five-off"))
    assert (online < baseline[0], at_popup < baseline[1]) == (online_off, popup_off)
