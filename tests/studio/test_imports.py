"""The CSV import: every bad row reported with its line, nothing written unless everything is, the
progress stream the page draws, the CLI's bar, and the all-or-nothing undo when a later
transaction fails."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.store import schema
from chalicelib.store.client import dynamodb
from chalicelib.studio.auth import Role
from tests.conftest import TABLE
from tests.studio.conftest import AUTH, as_role, csrf_of, log_in

DEMO_CSV = Path(__file__).resolve().parents[2] / "devtools" / "demo_import.csv"
CURRENCIES = ("USD", "EUR", "JPY", "AED")
HEADER = ["sku", "product", "size", "location", "on_hand", "swatch", "name.en", "colour.en"] + [
    f"{kind}.{c}" for c in CURRENCIES for kind in ("price", "cost")
]


def row(sku: str, size: str, location: str = "web", on_hand: str = "5", **changes: str) -> dict[str, str]:
    base = {"sku": sku, "product": sku.lower(), "size": size, "location": location, "on_hand": on_hand}
    base |= {"swatch": "#334455", "name.en": f"Name {sku}", "colour.en": "Blue"}
    base |= {f"price.{c}": ("9000" if c == "JPY" else "60.00") for c in CURRENCIES}
    base |= {f"cost.{c}": ("3000" if c == "JPY" else "20.00") for c in CURRENCIES}
    return base | changes


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def many_skus(count: int) -> list[dict[str, str]]:
    return [
        row(f"GEN-{n:03d}", size, place)
        for n in range(count)
        for size in ("S", "M")
        for place in ("web", "paris-marais")
    ]


def post_csv(studio: TestClient, text: str, slug: str = "winter-knit", stream: bool = False) -> Any:
    headers = AUTH | {"Content-Type": "text/csv"} | ({"Accept": "application/x-ndjson"} if stream else {})
    return studio.post(f"/studio/drops/{slug}/import", headers=headers, content=text.encode())


def stock_items(slug: str = "winter-knit") -> dict[str, dict[str, Any]]:
    items = dynamodb().query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": schema.stock_partition(slug)}},
    )["Items"]
    return {item["sk"]["S"]: item for item in items}


def test_the_demo_csv_imports_whole(studio: TestClient) -> None:
    response = post_csv(studio, DEMO_CSV.read_text(encoding="utf-8"))
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == {"skus": 3, "stock_lines": 14, "units": 111}
    catalog = wiring.catalog_store().drop_catalog("winter-knit")
    assert catalog is not None and [s.sku for s in catalog.skus] == ["CRW-HEATHER", "BNE-MOSS", "SCF-RUST"]
    scarf = catalog.skus[2]
    assert scarf.list_prices == {"USD": 6500, "EUR": 5900, "JPY": 9800, "AED": 23900} and scarf.name["ja"]
    assert int(stock_items()["SCF-RUST#One size#paris-marais"]["available"]["N"]) == 12
    assert wiring.audit().log("winter-knit")[0].summary == "imported 3 SKUs, 14 stock lines, 111 units"


def test_every_bad_row_is_reported_by_line_and_nothing_is_written(studio: TestClient) -> None:
    before = stock_items()
    rows = [
        row("GOOD-1", "M"),
        row("bad sku", "M"),
        row("GOOD-2", "L", location="mars"),
        row("GOOD-3", "S", on_hand="-2", **{"price.EUR": "12.345"}),
        row("GOOD-1", "M"),
        row("GOOD-1", "L", swatch="#000000"),
    ]
    response = post_csv(studio, to_csv(rows))
    assert response.status_code == 422
    found = {(p["line"], p["field"]) for p in response.json()["error"]["details"]}
    assert found == {(3, "sku"), (4, "location"), (5, "on_hand"), (5, "price.EUR"), (6, "sku"), (7, "swatch")}
    assert stock_items() == before
    assert wiring.audit().log("winter-knit") == []


def test_a_missing_column_is_one_clear_problem(studio: TestClient) -> None:
    response = post_csv(studio, "sku,size\nA,B\n")
    assert response.status_code == 422
    [problem] = response.json()["error"]["details"]
    assert problem["line"] == 1 and "price.USD" in problem["field"]


def test_the_stream_reports_progress_then_the_outcome(studio: TestClient) -> None:
    response = post_csv(studio, to_csv(many_skus(60)), stream=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    steps = [json.loads(line) for line in response.text.splitlines()]
    checks = [s for s in steps if s.get("phase") == "check"]
    writes = [s for s in steps if s.get("phase") == "write"]
    assert [s["done"] for s in checks] == [100, 200, 240] and checks[-1]["total"] == 240
    assert [s["done"] for s in writes] == [1, 2, 3, 4] and {s["total"] for s in writes} == {4}  # 306 writes
    assert steps[-1] == {"imported": {"skus": 60, "stock_lines": 240, "units": 1200}}
    assert len(stock_items()) == 240


def test_a_failure_in_a_later_transaction_undoes_the_earlier_ones(studio: TestClient) -> None:
    catalog_before = wiring.catalog_store().drop_catalog("winter-knit")
    held_key = next(key for key in stock_items() if key.startswith("CRW-HEATHER"))
    sku, size, location = held_key.split("#")
    dynamodb().update_item(
        TableName=TABLE,
        Key=schema.stock_key("winter-knit", sku, size, location),
        UpdateExpression="SET held = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    before = stock_items()
    rows = [*many_skus(60), row(sku, size, location)]  # the held item is rewritten in the last transaction
    response = post_csv(studio, to_csv(rows), stream=True)
    last = json.loads(response.text.splitlines()[-1])
    assert last["status"] == 409 and last["error"]["code"] == "stock_moved"
    assert stock_items() == before
    after = wiring.catalog_store().drop_catalog("winter-knit")
    assert after is not None and catalog_before is not None and after.skus == catalog_before.skus
    assert wiring.audit().log("winter-knit") == []


def test_a_started_drop_cannot_be_reimported(studio: TestClient) -> None:
    response = post_csv(studio, to_csv([row("NEW-1", "M")]), slug="linen-lab")
    assert response.status_code == 409 and response.json()["error"]["code"] == "drop_started"


def test_the_import_needs_an_editor_and_the_pages_csrf(studio: TestClient) -> None:
    text = to_csv([row("NEW-1", "M")])
    staff = as_role(Role.STAFF)
    assert studio.post("/studio/drops/winter-knit/import", headers=staff, content=text).status_code == 403
    session = log_in(studio)
    page = studio.get("/studio/drops/winter-knit/import", headers=session)
    assert page.status_code == 200 and "<progress" in page.text
    token = page.text.split('data-csrf="')[1].split('"')[0]
    forged = studio.post("/studio/drops/winter-knit/import", headers=session | {"X-CSRF-Token": "x"}, content=text)
    assert forged.status_code == 403
    good = studio.post("/studio/drops/winter-knit/import", headers=session | {"X-CSRF-Token": token}, content=text)
    assert good.status_code == 200
    assert csrf_of(page.text)  # the page's other forms carry it too


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"\xff\xfe not utf-8", "invalid_csv"), (b"x" * (5 * 1024 * 1024 + 1), "body_too_large")],
)
def test_unreadable_uploads_are_400(studio: TestClient, body: bytes, code: str) -> None:
    response = studio.post("/studio/drops/winter-knit/import", headers=AUTH, content=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_the_cli_draws_a_progress_bar_and_lists_problems(
    tmp_path: Path, studio: TestClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from devtools.import_csv import main

    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(to_csv(many_skus(30)), encoding="utf-8")
    bad.write_text(to_csv([row("GOOD-1", "M"), row("bad sku", "M", on_hand="x")]), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["import_csv", "--drop", "winter-knit", str(good)])
    main()
    out = capsys.readouterr()
    assert "[" + "#" * 30 + "] 120/120 rows checked" in out.err and "2/2 transactions written" in out.err
    assert out.out.strip() == "Imported 30 SKUs, 120 stock lines, 600 units into winter-knit."
    monkeypatch.setattr(sys, "argv", ["import_csv", "--drop", "winter-knit", str(bad)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "line 3, sku: needs upper-case letters" in err and "line 3, on_hand: needs a whole number" in err
