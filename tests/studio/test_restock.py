"""Adding stock to a live drop from the studio: the units land on the size at that place, audited with
the units on hand before and after in the same write; a size, piece or place the drop does not have
is a problem beside its field; only editors may, and a session's form needs its CSRF token."""

from __future__ import annotations

from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.stock.ports import StockRef
from chalicelib.studio.auth import Role
from tests.studio.conftest import AUTH, HTML, as_role, csrf_of, log_in


def on_hand(sku: str, size: str, location: str = "paris-marais") -> int:
    """Units on hand, once the item's counts still add up (on hand = available + held + sold)."""
    item = wiring.stock().item(StockRef("linen-lab", 0, sku, size, location))
    assert item is not None and int(item["on_hand"]) == sum(int(item[k]) for k in ("available", "held", "sold"))
    return int(item["on_hand"])


def test_a_delivery_from_the_drop_page_adds_units_and_says_so(studio: TestClient) -> None:
    session = log_in(studio)
    before = on_hand("TEE-INK", "M")
    page = studio.get("/studio/drops/linen-lab", headers=session)
    assert 'action="/studio/drops/linen-lab/stock"' in page.text
    form = {"csrf": csrf_of(page.text), "sku": "TEE-INK", "size": "M", "location": "paris-marais", "qty": "6"}
    added = studio.post("/studio/drops/linen-lab/stock", headers=session, data=form)
    assert added.status_code == 303 and added.headers["location"] == "/studio/drops/linen-lab?done=restocked"
    assert on_hand("TEE-INK", "M") == before + 6
    shown = studio.get("/studio/drops/linen-lab?done=restocked", headers=session).text
    assert "Stock added: shoppers can reserve it now" in shown
    (entry, *_) = wiring.audit().log("linen-lab", 5)
    assert entry.action == "stock" and entry.summary == "+6 TEE-INK M at Paris · Le Marais"
    assert [(c.before, c.after) for c in entry.changes] == [(str(before), str(before + 6))]


def test_a_size_or_place_the_drop_does_not_have_is_refused_beside_its_field(studio: TestClient) -> None:
    session = log_in(studio)
    csrf = csrf_of(studio.get("/studio/drops/linen-lab", headers=session).text)
    wrong = {"csrf": csrf, "sku": "BNE-HEATHER", "size": "M", "location": "lyon", "qty": "2"}
    refused = studio.post("/studio/drops/linen-lab/stock", headers={**session, **HTML}, data=wrong)
    assert refused.status_code == 422
    assert "BNE-HEATHER has no size M (it has OS)" in refused.text and "this drop has no stock at lyon" in refused.text
    assert 'name="qty" min="1" max="10000" required inputmode="numeric" value="2"' in refused.text  # kept as typed
    zero = studio.post(
        "/studio/drops/linen-lab/stock",
        headers={**session, **HTML},
        data={**wrong, "size": "OS", "location": "paris-marais", "qty": "0"},
    )
    assert zero.status_code == 422 and on_hand("BNE-HEATHER", "OS") == 8


def test_the_api_adds_stock_for_editors_only(studio: TestClient) -> None:
    body = {"sku": "JKT-RUST", "size": "XS", "location": "paris-marais", "qty": 3}
    answer = studio.post("/studio/api/drops/linen-lab/stock", headers=AUTH, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["on_hand"] == 3 and answer.json()["changes"][0]["before"] == "0"
    staff = studio.post("/studio/api/drops/linen-lab/stock", headers=as_role(Role.STAFF), json=body)
    assert staff.status_code == 403
    no_csrf = studio.post("/studio/api/drops/linen-lab/stock", headers=as_role(Role.EDITOR), json=body)
    assert no_csrf.status_code == 403 and on_hand("JKT-RUST", "XS") == 3
    unknown = studio.post("/studio/api/drops/linen-lab/stock", headers=AUTH, json={**body, "sku": "NOPE"})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "sku"
