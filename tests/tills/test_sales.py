"""Pop-up tills over HTTP: signed, revocable tokens; each sale once; footfall readings once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core.tokens import Purpose, sign, verify
from chalicelib.numbers.tables import cell_conversion
from chalicelib.pricing.experiments import assign
from chalicelib.stock.counters import Counter
from chalicelib.stock.ports import StockRef
from chalicelib.store.attributes import counter_attribute
from chalicelib.tills.sales import issue_till_token, revoke_till_token
from devtools.live import ROOT
from devtools.process import forget_process_state
from tests.conftest import json_of

PARIS = ZoneInfo("Europe/Paris")
LIST_EUR = {
    sku["sku"]: sku["list_prices"]["EUR"]
    for sku in json.loads((ROOT / "devtools" / "demo_drop.json").read_text())["drops"][0]["skus"]
}


@pytest.fixture
def till(client: Client, seeded_at: datetime) -> str:
    return issue_till_token(wiring.tills(), "paris-marais", seeded_at)


def post(client: Client, path: str, token: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return client.http.post(path, headers=headers, body=json.dumps(body))


def sale(
    sale_id: str, sku: str = "TEE-ECRU", size: str = "M", qty: int = 1, at: datetime | None = None
) -> dict[str, Any]:
    """A sale at the SKU's list price in euros (what a Paris till rings up without a discount)."""
    sold_at = (at or datetime.now(PARIS) - timedelta(hours=1)).isoformat()
    price = LIST_EUR.get(sku, 4100)
    return {"sale_id": sale_id, "sku": sku, "size": size, "qty": qty, "price_minor": price, "sold_at": sold_at}


def paris_stock(sku: str, size: str) -> dict[str, Any]:
    item = wiring.stock().item(StockRef("linen-lab", 0, sku, size, "paris-marais"))
    assert item is not None
    return item


def test_each_sale_applies_once_however_often_it_arrives(client: Client, till: str) -> None:
    batch = {"popup": "paris-marais", "sales": [sale("s-1"), sale("s-2", qty=2), sale("s-1")]}
    first = post(client, "/api/pos/sales", till, batch)
    assert first.status_code == 200, first.body
    assert json_of(first) == {"applied": ["s-1", "s-2"], "duplicates": ["s-1"], "rejected": [], "linked": []}
    again = json_of(post(client, "/api/pos/sales", till, batch))
    assert again == {"applied": [], "duplicates": ["s-1", "s-2", "s-1"], "rejected": [], "linked": []}
    item = paris_stock("TEE-ECRU", "M")
    assert (item["available"], item["sold"]) == (1, 3)


def started_days_ago(days: int) -> None:
    """Move the demo drop's start back, so a till can have sold it on an earlier day."""
    stored = wiring.catalog_store().drop_catalog("linen-lab")
    assert stored is not None
    drop = replace(stored.drop, starts_at=stored.drop.starts_at - timedelta(days=days))
    wiring.catalog_store().put_drop_catalog(replace(stored, drop=drop))
    forget_process_state()


def test_late_out_of_order_sales_count_on_their_own_day(client: Client, till: str) -> None:
    started_days_ago(3)
    two_days_ago = datetime.now(PARIS) - timedelta(days=2)
    batch = {
        "popup": "paris-marais",
        "sales": [sale("late-2", at=datetime.now(PARIS)), sale("late-1", at=two_days_ago)],
    }
    assert json_of(post(client, "/api/pos/sales", till, batch))["applied"] == ["late-2", "late-1"]
    item = paris_stock("TEE-ECRU", "M")
    assert item[counter_attribute(Counter.TILL_SOLD, two_days_ago.date())] == 1
    assert item[counter_attribute(Counter.TILL_REVENUE, two_days_ago.date())] == 4100


def test_sales_stock_cannot_cover_are_rejected_and_stock_stays_non_negative(client: Client, till: str) -> None:
    batch = {
        "popup": "paris-marais",
        "sales": [
            sale("x-1", "TRS-STONE", "S"),
            sale("x-2", "TRS-STONE", "S"),
            sale("x-3", "NOPE", "M"),
            sale("x-4", "TEE-ECRU", "XXL"),
            sale("x-5", at=datetime.now(PARIS) + timedelta(hours=2)),
        ],
    }
    report = json_of(post(client, "/api/pos/sales", till, batch))
    assert report["applied"] == ["x-1"]
    assert report["rejected"] == [
        {"sale_id": "x-2", "code": "out_of_stock"},
        {"sale_id": "x-3", "code": "unknown_item"},
        {"sale_id": "x-4", "code": "unknown_item"},
        {"sale_id": "x-5", "code": "sold_in_future"},
    ]
    assert paris_stock("TRS-STONE", "S")["available"] == 0


def test_till_tokens_are_checked_and_revocable(client: Client, till: str, seeded_at: datetime) -> None:
    batch = {"popup": "paris-marais", "sales": [sale("t-1")]}
    forged = sign(Purpose.TILL, {"p": "paris-marais", "i": "never-issued"})
    other_purpose = sign(Purpose.CANCEL, {"p": "paris-marais", "i": "x"})
    for token in (forged, other_purpose, till[:-3] + "abc"):
        response = post(client, "/api/pos/sales", token, batch)
        assert response.status_code == 401
    brooklyn = issue_till_token(wiring.tills(), "brooklyn", seeded_at)
    wrong = post(client, "/api/pos/sales", brooklyn, batch)
    assert (wrong.status_code, json_of(wrong)["error"]["code"]) == (403, "wrong_popup")
    token_id = verify(Purpose.TILL, till)["i"]  # the token's record id is inside its signed payload
    revoke_till_token(wiring.tills(), token_id, seeded_at)
    revoked = post(client, "/api/pos/sales", till, batch)
    assert (revoked.status_code, json_of(revoked)["error"]["code"]) == (401, "revoked_token")
    assert paris_stock("TEE-ECRU", "M")["sold"] == 0


@pytest.mark.parametrize(
    ("bad", "status", "code"),
    [
        ({"popup": "paris-marais", "sales": []}, 422, "invalid_body"),
        ({"popup": "paris-marais", "sales": [{**sale("q"), "qty": 0}]}, 422, "invalid_body"),
        ({"popup": "paris-marais", "sales": [{**sale("q"), "qty": "1"}]}, 422, "invalid_body"),
        ({"popup": "paris-marais", "sales": [{**sale("q"), "price_minor": 10.5}]}, 422, "invalid_body"),
        ({"popup": "paris-marais", "sales": [{**sale("q"), "sold_at": "2026-11-20T10:00:00"}]}, 422, "invalid_body"),
        ({"popup": "paris-marais", "sales": [{**sale("q"), "sale_id": "has space"}]}, 422, "invalid_body"),
        ({"popup": "paris-marais", "sales": [sale(f"n-{i}") for i in range(201)]}, 422, "invalid_body"),
        ({"popup": "paris-marais", "sales": [{**sale("q"), "sale_id": "q" * 70_000}]}, 400, "body_too_large"),
    ],
)
def test_bad_sales_batches_are_refused_whole(
    client: Client, till: str, bad: dict[str, Any], status: int, code: str
) -> None:
    response = post(client, "/api/pos/sales", till, bad)
    assert (response.status_code, json_of(response)["error"]["code"]) == (status, code)
    assert paris_stock("TEE-ECRU", "M")["sold"] == 0


def test_footfall_readings_count_once(client: Client, till: str) -> None:
    at = datetime.now(PARIS).replace(microsecond=0)
    counts = [{"at": at.isoformat(), "entered": 12}, {"at": (at + timedelta(minutes=15)).isoformat(), "entered": 7}]
    first = post(client, "/api/pos/footfall", till, {"popup": "paris-marais", "counts": counts})
    assert json_of(first) == {"recorded": 2, "duplicates": 0}
    again = post(client, "/api/pos/footfall", till, {"popup": "paris-marais", "counts": counts[:1]})
    assert json_of(again) == {"recorded": 0, "duplicates": 1}
    negative = post(
        client, "/api/pos/footfall", till, {"popup": "paris-marais", "counts": [{"at": at.isoformat(), "entered": -1}]}
    )
    assert negative.status_code == 422


def test_till_sales_feed_sell_through_and_the_days_numbers(client: Client, till: str) -> None:
    before = wiring.catalog().stock(wiring.catalog().drop("linen-lab").drop).sell_through_bps("TEE-ECRU")
    sales = [sale("n-1", qty=2), sale("n-2", "TEE-ECRU", "S", 3)]
    post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": sales})
    forget_process_state()  # a fresh process: no cached snapshot
    after = wiring.catalog().stock(wiring.catalog().drop("linen-lab").drop).sell_through_bps("TEE-ECRU")
    made = 10 + 20 + 25 + 18 + 9 + 3 + 4 + 4 + 3 + 2 + 2 + 3 + 3 + 3 + 2  # every TEE-ECRU unit in the demo
    assert after - before == 5 * 10_000 // made
    day = (datetime.now(PARIS) - timedelta(hours=1)).date().isoformat()
    numbers, made_per_place = wiring.stock().day_counters("linen-lab", 0)
    assert numbers[("TEE-ECRU", "paris-marais", day)] == {"till_sold": 5, "till_revenue": 5 * 4100}
    assert sum(units for (sku, _), units in made_per_place.items() if sku == "TEE-ECRU") == made


def test_the_largest_batches_the_contract_allows_are_taken(client: Client, till: str, seeded_at: datetime) -> None:
    """200 sales with every field at its longest, and 500 door readings in a few writes."""
    longest = [
        {**sale(f"{i:03d}" + "x" * 61, sku="TEE-ECRU", size="M"), "tryon_id": "0" * 17, "price_minor": 100_000_000}
        for i in range(200)
    ]
    body = {"popup": "paris-marais", "sales": longest}
    assert len(json.dumps(body)) > 40_000
    units = paris_stock("TEE-ECRU", "M")["available"]
    answer = post(client, "/api/pos/sales", till, body)
    assert answer.status_code == 200
    assert len(json_of(answer)["applied"]) == units and len(json_of(answer)["rejected"]) == 200 - units
    at = datetime.now(PARIS).replace(microsecond=0) - timedelta(hours=1)
    counts = [{"at": (at - timedelta(seconds=i)).isoformat(), "entered": 1} for i in range(500)]
    calls: list[str] = []
    original = wiring.tills()._call

    def counted(operation: str, **kwargs: Any) -> dict[str, Any]:
        calls.append(operation)
        return original(operation, **kwargs)

    wiring.tills()._call = counted
    first = post(client, "/api/pos/footfall", till, {"popup": "paris-marais", "counts": counts})
    assert json_of(first) == {"recorded": 500, "duplicates": 0}
    assert calls.count("transact_write_items") == 13  # 500 readings in chunks of 40
    again = post(client, "/api/pos/footfall", till, {"popup": "paris-marais", "counts": counts[:50] + counts[:10]})
    assert json_of(again) == {"recorded": 0, "duplicates": 60}


def test_a_sale_twice_in_one_batch_or_before_the_drop_started_is_not_applied(client: Client, till: str) -> None:
    started = wiring.catalog().drop("linen-lab").drop.starts_at
    batch = {
        "popup": "paris-marais",
        "sales": [
            sale("twin", sku="TEE-ECRU", size="M"),
            sale("twin", sku="TEE-INK", size="M"),  # one sale id on two lines
            sale("early", at=started - timedelta(minutes=1)),
        ],
    }
    answer = json_of(post(client, "/api/pos/sales", till, batch))
    assert answer["applied"] == ["twin"] and answer["duplicates"] == ["twin"]
    assert answer["rejected"] == [{"sale_id": "early", "code": "drop_not_live"}]
    assert paris_stock("TEE-INK", "M")["sold"] == 0


def test_a_till_sale_below_the_guardrail_needs_a_staff_reason_which_the_audit_log_keeps(
    client: Client, till: str
) -> None:
    # TEE-ECRU in euros: list 41.00, at most 30 % off (the cap under the stack's 35 %), cost 13.00 with
    # a 50 % margin floor (19.50): the lowest the guardrail admits is 28.70.
    sales = [
        {**sale("at-floor"), "price_minor": 2870},
        {**sale("just-under"), "price_minor": 2869},
        {**sale("far-under"), "price_minor": 1},
        {**sale("overridden"), "price_minor": 1500, "override_reason": "Seam flaw, sold as seen"},
    ]
    report = json_of(post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": sales}))
    assert report["applied"] == ["at-floor", "overridden"]
    assert report["rejected"] == [
        {"sale_id": "just-under", "code": "below_guardrail", "lowest": "2870"},
        {"sale_id": "far-under", "code": "below_guardrail", "lowest": "2870"},
    ]
    assert paris_stock("TEE-ECRU", "M")["sold"] == 2
    (entry,) = [e for e in wiring.audit().log("linen-lab") if e.action == "till_override"]
    assert entry.who == "till at paris-marais"
    assert "at 15.00 EUR (lowest the guardrail admits: 28.70 EUR)" in entry.summary and "Seam flaw" in entry.summary
    # The override is kept with its sale: sent again, the sale is a duplicate and is not logged twice.
    again = json_of(post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": sales[3:]}))
    assert again["duplicates"] == ["overridden"]
    assert len([e for e in wiring.audit().log("linen-lab") if e.action == "till_override"]) == 1


def test_a_per_sku_cap_and_a_pinned_price_set_the_tills_floor_too(client: Client, till: str) -> None:
    # JKT-RUST may be at most 10 % off: 175.00 → 157.50.
    sales = [{**sale("rust", sku="JKT-RUST", size="M"), "price_minor": 15749}]
    report = json_of(post(client, "/api/pos/sales", till, {"popup": "paris-marais", "sales": sales}))
    assert report["rejected"] == [{"sale_id": "rust", "code": "below_guardrail", "lowest": "15750"}]


def test_till_sales_count_in_the_cohort_and_cell_numbers_once(client: Client, till: str) -> None:
    """A sale at list price counts as full price, one below it in the till's own cohort; a sale
    that followed a try-on counts in the shopper's experiment cells; a resent sale counts once."""
    from tests.tryon.test_tryons import ask, new_visitor

    visitor = new_visitor(client)
    tryon_id = json.loads(ask(client, visitor).body)["tryon_id"]
    tryon = wiring.tryons().tryon(tryon_id)
    policy = wiring.catalog_store().pricing_policy("linen-lab")
    assert tryon is not None and policy is not None
    cells = [a.label for a in assign(tryon.visitor, policy.experiments)]
    before = wiring.numbers().counts("linen-lab")
    sales = [
        {**sale("full", sku=tryon.sku, size=tryon.size), "tryon_id": tryon_id},
        {**sale("staff-price"), "price_minor": 3000},
    ]
    batch = {"popup": "paris-marais", "sales": sales}
    assert json_of(post(client, "/api/pos/sales", till, batch))["applied"] == ["full", "staff-price"]
    post(client, "/api/pos/sales", till, batch)  # resent: duplicates, counted once
    after = wiring.numbers().counts("linen-lab")
    added = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    assert added["units@till@EUR"] == 1 and added["paid@till@EUR"] == 3000 and added["list@till@EUR"] == 4100
    assert added["units@full-price@EUR"] == 1 and added["paid@full-price@EUR"] == LIST_EUR.get(tryon.sku, 4100)
    assert cells and all(added[f"sold@{cell}"] == 1 for cell in cells)
    table = {row[0]: row for row in cell_conversion(after).rows}
    assert all(int(table[cell][3]) >= 1 for cell in cells)  # the cell's conversion counts the till sale
