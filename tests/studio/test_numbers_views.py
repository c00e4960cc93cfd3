"""The numbers page: four server-rendered SVG charts fed by real bookings, scans and visits, each
with its CSV; labels escaped, spreadsheet formulas defused."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from xml.etree import ElementTree

from chalice.test import Client
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.i18n.formatting import money
from chalicelib.numbers.tables import Table
from chalicelib.studio import charts
from chalicelib.tills.sales import issue_till_token
from tests.stock.test_pickup import book, order, slots, tomorrow
from tests.studio.conftest import AUTH, log_in
from tests.studio.test_drop_views import edit_form
from tests.tills.test_returns import returned
from tests.tills.test_sales import PARIS, post, sale
from tests.tryon.test_tryons import new_visitor

NUMBERS = "/studio/drops/linen-lab/numbers"

SVG_NS = "{http://www.w3.org/2000/svg}"


def test_bookings_scans_and_visits_reach_every_chart_and_csv(
    studio: TestClient, client: Client, seeded_at: datetime
) -> None:
    new_visitor(client)  # a scan, and a new visitor in an experiment cell
    start = slots(client, tomorrow(seeded_at))[0]["start"]
    assert book(client, order(start, ("TEE-ECRU", "M", 2))).status_code == 201
    session = log_in(studio)
    page = studio.get("/studio/drops/linen-lab/numbers", headers=session)
    assert page.status_code == 200 and "<script" not in page.text
    for name in ("sell-through", "qr-funnel", "discount-depth", "cell-conversion"):
        assert f'id="{name}"' in page.text
        exported = studio.get(f"/studio/drops/linen-lab/numbers/{name}.csv", headers=AUTH)
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert rows, name
        drawn = studio.get(f"/studio/drops/linen-lab/numbers/{name}.svg", headers=AUTH)
        ElementTree.fromstring(drawn.text)  # well-formed
    sold = csv.DictReader(
        io.StringIO(studio.get("/studio/drops/linen-lab/numbers/sell-through.csv", headers=AUTH).text)
    )
    assert any(r["SKU at place"] == "TEE-ECRU@paris-marais" and r["units sold"] == "2" for r in sold)
    funnel = studio.get("/studio/drops/linen-lab/numbers/qr-funnel.csv", headers=AUTH).text
    assert "pop-up,step,count" in funnel and "paris-marais,QR scans,1" in funnel  # words, not identifiers
    cells = list(
        csv.DictReader(
            io.StringIO(studio.get("/studio/drops/linen-lab/numbers/cell-conversion.csv", headers=AUTH).text)
        )
    )
    assert sum(int(r["visitors"]) for r in cells) >= 1 and sum(int(r["bookings"]) for r in cells) == 1
    depth = list(
        csv.DictReader(io.StringIO(studio.get("/studio/drops/linen-lab/numbers/discount-depth.csv", headers=AUTH).text))
    )
    assert sum(int(r["units"]) for r in depth) == 2


def test_an_unknown_chart_is_404(studio: TestClient) -> None:
    assert studio.get("/studio/drops/linen-lab/numbers/pie.csv", headers=AUTH).status_code == 404
    assert studio.get("/studio/drops/linen-lab/numbers/qr-funnel.exe", headers=AUTH).status_code == 404


def test_labels_are_escaped_and_csv_formulas_defused() -> None:
    table = Table(
        "t",
        "T <b>",
        ("cohort", "currency", "units", "discount_depth_bps", "margin_recovered_bps"),
        (("<script>alert(1)</script>", "EUR", 3, 500, 9000), ('=HYPERLINK("x")', "EUR", 1, 0, 10000)),
    )
    svg = charts.scatter(table, lambda row: str(row[0]), 3, 4, 2)
    tree = ElementTree.fromstring(svg)
    assert not list(tree.iter(f"{SVG_NS}script")) and "&lt;script&gt;" in svg
    assert len(list(tree.iter(f"{SVG_NS}circle"))) == 2
    assert "'=HYPERLINK" in charts.to_csv(table)
    assert json.dumps(charts.bars(Table("e", "Empty", ("a", "b"), ()), str, 1)).count("No data yet") == 1


def test_an_export_reads_only_its_own_counters(studio: TestClient) -> None:
    from tests.test_requests_per_view import count_requests

    seen = count_requests()
    assert studio.get("/studio/drops/linen-lab/numbers/qr-funnel.csv", headers=AUTH).status_code == 200
    assert sorted(seen) == ["BatchGetItem", "Query", "Query"]  # the drop, its locations, the funnel
    seen.clear()
    assert studio.get("/studio/drops/linen-lab/numbers/pie.svg", headers=AUTH).status_code == 404
    assert seen == []  # an unknown chart costs no read


def test_each_experiment_shows_its_cells_intervals_split_check_and_verdict(studio: TestClient) -> None:
    from chalicelib import wiring
    from tests.numbers.test_experiments import counts_for

    wiring.numbers().add("linen-lab", counts_for((1_000, 1_000), (20, 60)))  # the demo's launch-depth cells
    page = studio.get("/studio/drops/linen-lab/numbers", headers=log_in(studio)).text
    section = page[page.index('id="experiments"') : page.index("</section>", page.index('id="experiments"'))]
    assert "<h3>launch-depth</h3>" in section and "<h3>urgency-copy</h3>" in section
    assert "five-off ahead of control: the interval excludes zero (+2.3 to +5.8 points, 95 % interval)" in section
    assert "2.0 % (1.3 % to 3.1 %)" in section  # control: 20 of 1,000, Wilson's interval
    assert "€5,700.00" in section and "€3,300.00" in section  # five-off: 60 bookings at 95.00, 40.00 cost each
    assert "Not enough data yet" in section  # urgency-copy has had no visitors in this test


def test_returns_reach_their_tables_and_csvs_in_words(studio: TestClient, client: Client, seeded_at: datetime) -> None:
    token = issue_till_token(wiring.tills(), "paris-marais", seeded_at)
    sold = {"popup": "paris-marais", "sales": [sale("n-1", qty=2)]}
    assert json.loads(post(client, "/api/pos/sales", token, sold).body)["applied"] == ["n-1"]
    back = {"popup": "paris-marais", "returns": [returned("n-r1", sale_id="n-1", reason="quality")]}
    assert json.loads(post(client, "/api/pos/returns", token, back).body)["applied"] == ["n-r1"]
    rates = list(csv.DictReader(io.StringIO(studio.get(f"{NUMBERS}/returns.csv", headers=AUTH).text)))
    tee = next(row for row in rates if row["SKU at pop-up"] == "TEE-ECRU at paris-marais")
    assert tee == {
        "SKU at pop-up": "TEE-ECRU at paris-marais",
        "packaging": "recycled-mailer",
        "units sold": "2",
        "returned within 30 days": "1",
        "return rate (%)": "50",
    }
    packs = studio.get(f"{NUMBERS}/returns-by-packaging.csv", headers=AUTH).text
    assert "recycled-mailer,2,1,50" in packs
    why = studio.get(f"{NUMBERS}/return-reasons.csv", headers=AUTH).text
    assert "reason,units" in why and "quality,1" in why  # words, not codes
    page = studio.get(NUMBERS, headers=log_in(studio)).text
    tiles = dict(re.findall(r"<div><dt>([^<]+)</dt><dd>([^<]+)</dd></div>", page))
    assert tiles["Units sold"] == "2" and tiles["Returned within 30 days"] == "50.0 %"
    assert tiles["Revenue"] == "€82.00" and set(tiles) >= {"Sell-through", "Average discount", "Margin recovered"}


def test_the_numbers_page_shows_new_customers_and_what_each_cost(
    studio: TestClient, client: Client, seeded_at: datetime
) -> None:
    session = log_in(studio)
    form = studio.get("/studio/drops/linen-lab", headers=session)
    assert 'name="popup_cost.paris-marais"' in form.text and "(EUR:" in form.text
    start = slots(client, tomorrow(seeded_at))[0]["start"]
    for email in ("ada@example.org", "grace@example.org", "lin@example.org"):
        body = order(start, ("TEE-ECRU", "M", 1), contact={"name": "A shopper", "email": email})
        assert book(client, body).status_code == 201
    edited = edit_form(studio, session, "linen-lab") | {"popup_cost.paris-marais": "1200"}
    saved = studio.post("/studio/drops/linen-lab", headers=session, data=edited)
    assert saved.status_code == 303, saved.text
    catalog = wiring.catalog_store().drop_catalog("linen-lab")
    assert catalog is not None and catalog.drop.popup_costs == {"paris-marais": 120_000}
    entry = next(entry for entry in wiring.audit().log("linen-lab") if entry.action == "drop")
    assert [(c.field, c.before, c.after) for c in entry.changes] == [
        ("Paris · Le Marais: what it cost for this drop (EUR)", "", "1200.00 EUR")
    ]
    page = studio.get("/studio/drops/linen-lab/numbers", headers=session)
    assert 'id="customers"' in page.text
    row = page.text.split("<strong>paris-marais</strong>", 1)[1].split("</tr>", 1)[0]
    assert ">3<" in row and "€1,200.00" in row and "€400.00" in row  # 3 new customers: €400 each
    exported = studio.get("/studio/drops/linen-lab/numbers/customers.csv", headers=AUTH).text
    assert (
        "pop-up,new customers,returning customers,purchases" in exported
        and "paris-marais,3,0,3,100,EUR,120000,40000" in exported
    )


def tiles_of(studio: TestClient, query: str, slug: str = "linen-lab") -> dict[str, str]:
    """The numbers page's tiles for ``query``, name to figure."""
    page = studio.get(f"/studio/drops/{slug}/numbers?{query}", headers=log_in(studio))
    assert page.status_code == 200, page.text
    return dict(re.findall(r"<div><dt>([^<]+)</dt><dd>([^<]+)</dd></div>", page.text))


def test_the_tiles_and_charts_follow_the_date_range_and_the_pop_up(
    studio: TestClient, client: Client, seeded_at: datetime
) -> None:
    """A booking at Paris and a sale at Brooklyn's till, each on its own local day: each pop-up's
    numbers hold its own, the days before hold none, and the CSVs follow the page."""
    start = slots(client, tomorrow(seeded_at))[0]["start"]
    booked = book(client, order(start, ("TEE-ECRU", "M", 2)))
    assert booked.status_code == 201
    paris = money(json.loads(booked.body)["total_minor"], "EUR", "en")  # the visitor's cell may price it
    token = issue_till_token(wiring.tills(), "brooklyn", seeded_at)
    ny_sale = sale("ny-1", qty=1) | {"price_minor": 4500}
    assert json.loads(post(client, "/api/pos/sales", token, {"popup": "brooklyn", "sales": [ny_sale]}).body)["applied"]
    assert (tiles_of(studio, "")["Units sold"], tiles_of(studio, "")["Revenue"]) == ("3", f"{paris}, $45.00")
    at_paris = tiles_of(studio, "popup=paris-marais")
    assert (at_paris["Units sold"], at_paris["Revenue"]) == ("2", paris)
    assert tiles_of(studio, "popup=brooklyn")["Revenue"] == "$45.00"
    before = (seeded_at - timedelta(days=3)).date().isoformat()
    earlier = tiles_of(studio, f"until={before}")
    assert (earlier["Units sold"], earlier["Revenue"]) == ("0", "none")
    sold = studio.get(f"{NUMBERS}/sell-through.csv?popup=brooklyn", headers=AUTH).text
    assert "TEE-ECRU@brooklyn" in sold and "paris-marais" not in sold
    page = studio.get(f"{NUMBERS}?popup=brooklyn&since={before}", headers=log_in(studio)).text
    assert f"sell-through.csv?popup=brooklyn&amp;since={before}" in page  # the exports keep the scope
    for bad in ("popup=atlantis", f"since={seeded_at.date().isoformat()}&until={before}", "since=yesterday"):
        refused = studio.get(f"{NUMBERS}?{bad}", headers=log_in(studio))
        assert refused.status_code == 400, bad


def test_the_door_counter_reaches_the_footfall_chart(studio: TestClient, client: Client, seeded_at: datetime) -> None:
    token = issue_till_token(wiring.tills(), "paris-marais", seeded_at)
    at = datetime.now(PARIS).replace(microsecond=0) - timedelta(minutes=30)
    counts = {"popup": "paris-marais", "counts": [{"at": at.isoformat(), "entered": 20}]}
    assert json.loads(post(client, "/api/pos/footfall", token, counts).body)["recorded"] == 1
    rung = {"popup": "paris-marais", "sales": [sale("f-1", at=at)]}
    assert json.loads(post(client, "/api/pos/sales", token, rung).body)["applied"] == ["f-1"]
    rows = list(csv.DictReader(io.StringIO(studio.get(f"{NUMBERS}/footfall.csv", headers=AUTH).text)))
    assert rows == [
        {
            "pop-up": "paris-marais",
            "day": at.date().isoformat(),
            "footfall": "20",
            "units sold at the till": "1",
            "conversion (%)": "5",
        }
    ]
    assert studio.get(f"{NUMBERS}/footfall.csv?popup=brooklyn", headers=AUTH).text.count("\n") == 1  # its header
