"""The CSV import: every bad row reported with its line, nothing written unless everything is, the
progress stream the page draws, the CLI's bar, and the staged switch: a timeout at any write leaves
the live drop exactly as it was (or, past the switch, exactly as imported), never a mix."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict, Unavailable
from chalicelib.core.models import DropCatalog, Sku
from chalicelib.stock.ports import STALE_AFTER, StockRef
from chalicelib.store import schema
from chalicelib.store.client import call, dynamodb
from chalicelib.store.imports import DynamoImports
from chalicelib.studio.auth import Role
from chalicelib.studio.imports import LIVE_MARGIN, Progress, run_import
from devtools.process import forget_process_state
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


def to_csv(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\n", delimiter=delimiter)
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
    return studio.post(f"/studio/api/drops/{slug}/imports", headers=headers, content=text.encode())


def stock_items(slug: str = "winter-knit") -> dict[str, dict[str, Any]]:
    """The live generation's stock items, raw, by sort key."""
    catalog = wiring.catalog_store().drop_catalog(slug)
    assert catalog is not None
    items = dynamodb().query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": schema.stock_partition(slug, catalog.drop.generation)}},
    )["Items"]
    return {item["sk"]["S"]: item for item in items}


def live(slug: str = "winter-knit") -> tuple[tuple[Sku, ...], dict[str, tuple[str, str]]]:
    """What shoppers of the drop can reach: its SKUs and its stock (units made, available)."""
    catalog = wiring.catalog_store().drop_catalog(slug)
    assert catalog is not None
    stock = {key: (item["on_hand"]["N"], item["available"]["N"]) for key, item in stock_items(slug).items()}
    return catalog.skus, stock


def unreachable(slug: str = "winter-knit") -> int:
    """Items of the drop's SKUs or stock outside its live generation (what a stopped import left)."""
    catalog = wiring.catalog_store().drop_catalog(slug)
    assert catalog is not None
    scan = dynamodb().scan(TableName=TABLE)["Items"]
    prefix = schema.sku_prefix(catalog.drop.generation)
    skus = [i for i in scan if i["pk"]["S"] == f"DROP#{slug}" and i["sk"]["S"].startswith("SKU#")]
    stock = [i for i in scan if i["pk"]["S"].startswith(f"STOCK#{slug}#")]
    live_stock = schema.stock_partition(slug, catalog.drop.generation)
    return len(
        [i for i in skus if not i["sk"]["S"].startswith(prefix)] + [i for i in stock if i["pk"]["S"] != live_stock]
    )


WRITES = frozenset({"batch_write_item", "transact_write_items", "update_item", "put_item", "delete_item"})


class TimeoutAt:
    """DynamoDB calls as the app makes them, except that write number ``at`` applies and then its
    answer is lost: the worst timeout, since the write landed but the caller cannot know it. With
    ``lasting``, DynamoDB stays silent for every write after it (nothing more applies)."""

    def __init__(self, at: int, *, lasting: bool = False) -> None:
        self.at, self.lasting, self.writes = at, lasting, 0

    def __call__(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        if operation in WRITES:
            self.writes += 1
            if self.writes > self.at and self.lasting:
                raise Unavailable(f"DynamoDB {operation} did not answer: ConnectTimeoutError")
        answer = call(operation, **kwargs)
        if operation in WRITES and self.writes == self.at:
            raise Unavailable(f"DynamoDB {operation} did not answer: ReadTimeoutError")
        return answer


def import_with(store: DynamoImports, text: str, slug: str = "winter-knit") -> list[Any]:
    catalog = wiring.catalog_store().drop_catalog(slug)
    assert catalog is not None
    audit = lambda summary: AuditEntry(slug, "test", "import", summary, "2026-11-01T00:00:00Z")  # noqa: E731
    return list(run_import(store, catalog, text, audit, wiring.utcnow))


def staged_a_batch(text: str) -> tuple[DropCatalog, Iterator[Progress | dict[str, Any]], Progress]:
    """An import of ``text`` into winter-knit, stopped after its first batch is written: the catalog
    it read, the rest of its steps, and that step."""
    catalog = wiring.catalog_store().drop_catalog("winter-knit")
    assert catalog is not None
    audit = lambda summary: AuditEntry("winter-knit", "test", "import", summary, "2026-11-01T00:00:00Z")  # noqa: E731
    steps = run_import(wiring.product_imports(), catalog, text, audit, wiring.utcnow)
    written = next(step for step in steps if isinstance(step, Progress) and step.phase == "write")
    assert isinstance(written, Progress)
    return catalog, steps, written


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


def test_an_import_into_a_sharded_drop_writes_each_size_spread_over_its_shards(studio: TestClient) -> None:
    stored = wiring.catalog_store().drop_catalog("winter-knit")
    assert stored is not None
    sharded = replace(stored.drop, stock_shards=4)
    wiring.catalog_store().put_drop_catalog(replace(stored, drop=sharded))
    forget_process_state()
    response = post_csv(studio, DEMO_CSV.read_text(encoding="utf-8"))
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == {"skus": 3, "stock_lines": 14, "units": 111}  # lines as the file has them
    scarf = StockRef("winter-knit", 1, "SCF-RUST", "One size", "paris-marais")
    shards = {shard: item["available"] for shard, item in wiring.stock().shard_items(scarf).items()}
    assert shards == {0: 3, 1: 3, 2: 3, 3: 3}
    live = wiring.catalog_store().drop_catalog("winter-knit")
    assert live is not None and live.drop.generation == 1
    assert (
        wiring.catalog_store().available_stock("winter-knit", 1).available[("SCF-RUST", "One size", "paris-marais")]
        == 12
    )


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
    columns = {p["field"]: p["column"] for p in response.json()["error"]["details"]}  # as a spreadsheet names them
    assert columns == {"sku": "A", "location": "D", "on_hand": "E", "swatch": "F", "price.EUR": "K"}
    assert stock_items() == before
    assert wiring.audit().log("winter-knit") == []


def test_a_missing_column_is_one_clear_problem(studio: TestClient) -> None:
    response = post_csv(studio, "sku,size\nA,B\n")
    assert response.status_code == 422
    [problem] = response.json()["error"]["details"]
    assert problem["line"] == 1 and "price.USD" in problem["field"]
    assert problem["problem"] == "the header (read as separated by commas) is missing these columns"


@pytest.mark.parametrize(
    ("delimiter", "decimal"), [(";", ","), ("\t", "."), (",", ".")], ids=["semicolon", "tab", "comma"]
)
def test_the_separator_is_the_one_the_header_uses(studio: TestClient, delimiter: str, decimal: str) -> None:
    """Excel saves "CSV" with semicolons where the decimal mark is a comma (much of Europe)."""
    priced = [row("SEP-1", size, **{"price.EUR": f"59{decimal}50"}) for size in ("S", "M")]
    response = post_csv(studio, to_csv(priced, delimiter))
    assert response.status_code == 200, response.text
    catalog = wiring.catalog_store().drop_catalog("winter-knit")
    assert catalog is not None and [(s.sku, s.sizes, s.list_prices["EUR"]) for s in catalog.skus] == [
        ("SEP-1", ("S", "M"), 5950)
    ]


def test_the_drop_downloads_as_a_file_that_imports_back_unchanged(studio: TestClient) -> None:
    assert post_csv(studio, DEMO_CSV.read_text(encoding="utf-8")).status_code == 200
    before = live()
    download = studio.get("/studio/drops/winter-knit/import/template.csv", headers=AUTH)
    assert download.status_code == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == 'attachment; filename="winter-knit-import.csv"'
    text = download.content.decode("utf-8")
    assert text.startswith("\ufeffsku,product,size,location,on_hand,swatch,name.en,colour.en,price.USD,cost.USD")
    header = text.splitlines()[0].split(",")
    assert {"name.fr", "colour.ja"} <= set(header)  # every locale's copy has its column
    assert len(text.splitlines()) == 1 + 14  # one row per stock line
    assert post_csv(studio, text).status_code == 200  # the import reads the byte-order mark
    assert live() == before


def test_the_stream_reports_progress_then_the_outcome(studio: TestClient) -> None:
    response = post_csv(studio, to_csv(many_skus(60)), stream=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    steps = [json.loads(line) for line in response.text.splitlines()]
    checks = [s for s in steps if s.get("phase") == "check"]
    writes = [s for s in steps if s.get("phase") == "write"]
    assert [s["done"] for s in checks] == [100, 200, 240] and checks[-1]["total"] == 240
    assert [s["done"] for s in writes] == list(range(25, 301, 25)) and {s["total"] for s in writes} == {300}
    assert steps[-1] == {"imported": {"skus": 60, "stock_lines": 240, "units": 1200}}
    assert len(stock_items()) == 240 and unreachable() == 0  # the generation it replaced is gone


def test_a_timeout_at_any_write_leaves_the_live_drop_as_it_was_or_as_imported(studio: TestClient) -> None:
    files = [to_csv(many_skus(10)), to_csv([line | {"on_hand": "6"} for line in many_skus(10)])]
    imported = []
    for text in files:
        import_with(wiring.product_imports(), text)
        imported.append(live())
    assert imported[0] != imported[1] and len(imported[1][1]) == 40
    at, outcomes = 1, []
    while True:
        # The file not live now: after a timeout that left it unfinished, that file again, which resumes.
        target = 0 if live() == imported[1] else 1
        flaky, before = TimeoutAt(at), live()
        try:
            import_with(DynamoImports(TABLE, call=flaky), files[target])
            outcomes.append("imported")
        except Unavailable:
            outcomes.append("timed out")
        assert live() in (before, imported[target])  # exactly one generation, whole
        if flaky.writes < at:  # the import finished before the timeout's write: every write was tried
            break
        at += 1
    assert outcomes.count("timed out") >= 6  # the lease, 2 batches and their progress, the switch (at least)
    import_with(wiring.product_imports(), to_csv(many_skus(3)))
    assert len(live()[0]) == 3 and unreachable() == 0  # what stopped imports left is cleared


def test_the_live_drop_is_served_while_the_next_one_is_staged(studio: TestClient) -> None:
    old = live()
    _, steps, written = staged_a_batch(to_csv(many_skus(60)))
    assert written.done == 25 and live() == old and unreachable() == 25
    page = studio.get("/studio/drops/winter-knit/import", headers=AUTH)
    assert "25 of 300" in page.text  # the job's progress is read back, not only streamed
    second = post_csv(studio, to_csv(many_skus(2)))
    assert second.status_code == 409 and second.json()["error"]["code"] == "import_running"
    assert [step for step in steps if isinstance(step, dict)] == [
        {"imported": {"skus": 60, "stock_lines": 240, "units": 1200}}
    ]
    assert live() != old and unreachable() == 0


def test_an_import_that_timed_out_says_so_and_nothing_of_it_is_live(studio: TestClient) -> None:
    old = live()
    with pytest.raises(Unavailable):
        import_with(DynamoImports(TABLE, call=TimeoutAt(5)), to_csv(many_skus(60)))
    assert live() == old and unreachable() > 0
    page = studio.get("/studio/drops/winter-knit/import", headers=AUTH)
    assert "did not go live: The database did not answer in time. Nothing of it is live." in page.text
    assert post_csv(studio, to_csv(many_skus(2))).status_code == 200
    assert len(live()[0]) == 2 and unreachable() == 0


def test_an_import_cut_off_is_running_until_silent_then_stopped_and_taken_over(
    studio: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = live()
    with pytest.raises(Unavailable):  # DynamoDB went silent after write 5: not even the failure is recorded
        import_with(DynamoImports(TABLE, call=TimeoutAt(5, lasting=True)), to_csv(many_skus(60)))
    assert live() == old
    job = wiring.product_imports().import_job("winter-knit")
    assert job is not None and job.done == 50  # write 5, the progress after batch 2, landed; then silence
    page = studio.get("/studio/drops/winter-knit/import", headers=AUTH)
    assert "is writing: 50 of 300 written" in page.text and 'http-equiv="refresh"' in page.text
    assert post_csv(studio, to_csv(many_skus(2))).json()["error"]["code"] == "import_running"
    later = wiring.utcnow() + STALE_AFTER
    monkeypatch.setattr(wiring, "utcnow", lambda: later)
    page = studio.get("/studio/drops/winter-knit/import", headers=AUTH)
    assert "stopped at 50 of 300 written" in page.text and "Nothing of it is live" in page.text
    assert post_csv(studio, to_csv(many_skus(2))).status_code == 200
    assert len(live()[0]) == 2 and unreachable() == 0


def test_an_edit_while_staging_wins_and_the_import_goes_nowhere(studio: TestClient) -> None:
    old = live()
    catalog, steps, _ = staged_a_batch(to_csv(many_skus(60)))
    edit = AuditEntry("winter-knit", "someone", "edit", "tagline", "2026-11-01T00:00:00Z")
    wiring.catalog_store().save_drop(catalog, edit)
    with pytest.raises(Conflict) as refused:
        list(steps)
    assert refused.value.code == "edit_conflict"
    assert live() == old
    job = wiring.product_imports().import_job("winter-knit")
    assert job is not None and job.state == "failed" and "changed this drop" in job.summary


def test_an_import_begun_on_a_drop_another_import_just_replaced_loses(studio: TestClient) -> None:
    stale = wiring.catalog_store().drop_catalog("winter-knit")  # read before the other import went live
    assert stale is not None
    import_with(wiring.product_imports(), to_csv(many_skus(4)))
    replaced = live()
    audit = lambda summary: AuditEntry("winter-knit", "test", "import", summary, "2026-11-01T00:00:00Z")  # noqa: E731
    with pytest.raises(Conflict) as refused:
        list(run_import(wiring.product_imports(), stale, to_csv(many_skus(6)), audit, wiring.utcnow))
    assert refused.value.code == "edit_conflict"
    assert live() == replaced and len(replaced[0]) == 4 and unreachable() == 0


def test_stock_held_or_sold_is_never_replaced(studio: TestClient) -> None:
    held_key = next(key for key in stock_items() if key.startswith("CRW-HEATHER"))
    sku, size, location = held_key.split("#")
    dynamodb().update_item(
        TableName=TABLE,
        Key=schema.stock_key("winter-knit", 0, sku, size, location),
        UpdateExpression="SET held = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    before = live()
    response = post_csv(studio, to_csv(many_skus(60)), stream=True)
    last = json.loads(response.text.splitlines()[-1])
    assert last["status"] == 409 and last["error"]["code"] == "stock_moved"
    assert live() == before and unreachable() == 0
    assert wiring.audit().log("winter-knit") == []


def test_a_started_drop_cannot_be_reimported(studio: TestClient) -> None:
    response = post_csv(studio, to_csv([row("NEW-1", "M")]), slug="linen-lab")
    assert response.status_code == 409 and response.json()["error"]["code"] == "drop_started"


def test_an_import_cannot_go_live_within_a_minute_of_the_start(
    studio: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = wiring.catalog_store().drop_catalog("winter-knit")
    assert catalog is not None
    monkeypatch.setattr(wiring, "utcnow", lambda: catalog.drop.starts_at - LIVE_MARGIN + timedelta(seconds=1))
    old = live()
    response = post_csv(studio, to_csv(many_skus(2)))
    assert response.status_code == 409 and response.json()["error"]["code"] == "drop_started"
    assert "within a minute" in response.json()["error"]["message"] and live() == old


def test_the_import_needs_an_editor_and_the_pages_csrf(studio: TestClient) -> None:
    text = to_csv([row("NEW-1", "M")])
    staff = as_role(Role.STAFF)
    assert studio.post("/studio/api/drops/winter-knit/imports", headers=staff, content=text).status_code == 403
    session = log_in(studio)
    page = studio.get("/studio/drops/winter-knit/import", headers=session)
    assert page.status_code == 200 and "<progress" in page.text
    token = page.text.split('data-csrf="')[1].split('"')[0]
    forged = studio.post("/studio/api/drops/winter-knit/imports", headers=session | {"X-CSRF-Token": "x"}, content=text)
    assert forged.status_code == 403
    good = studio.post("/studio/api/drops/winter-knit/imports", headers=session | {"X-CSRF-Token": token}, content=text)
    assert good.status_code == 200
    assert csrf_of(page.text)  # the page's other forms carry it too


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"\xff\xfe not utf-8", "invalid_csv"), (b"x" * (5 * 1024 * 1024 + 1), "body_too_large")],
)
def test_unreadable_uploads_are_400(studio: TestClient, body: bytes, code: str) -> None:
    response = studio.post("/studio/api/drops/winter-knit/imports", headers=AUTH, content=body)
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
    assert "[" + "#" * 30 + "] 120/120 rows checked" in out.err and "150/150 items written" in out.err
    assert out.out.strip() == "Imported 30 SKUs, 120 stock lines, 600 units into winter-knit."
    monkeypatch.setattr(sys, "argv", ["import_csv", "--drop", "winter-knit", str(bad)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "line 3, sku: needs upper-case letters" in err and "line 3, on_hand: needs a whole number" in err


class Counting:
    """DynamoDB calls as the app makes them, counting the items batch writes put and delete."""

    def __init__(self) -> None:
        self.put = self.deleted = 0

    def __call__(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        for requests in kwargs.get("RequestItems", {}).values() if operation == "batch_write_item" else ():
            self.put += sum("PutRequest" in request for request in requests)
            self.deleted += sum("DeleteRequest" in request for request in requests)
        return call(operation, **kwargs)


def test_the_same_file_again_resumes_a_stopped_import_where_it_got_to(studio: TestClient) -> None:
    old, text = live(), to_csv(many_skus(60))  # 300 items: 12 batches
    with pytest.raises(Unavailable):  # write 9 is the progress after batch 4: it landed, its answer lost
        import_with(DynamoImports(TABLE, call=TimeoutAt(9)), text)
    assert live() == old
    page = studio.get("/studio/drops/winter-knit/import", headers=AUTH)
    assert "Import the same file again to carry on from 100 of 300 written" in page.text
    counting = Counting()
    steps = import_with(DynamoImports(TABLE, call=counting), text)
    assert counting.put == 200  # the 200 items not yet written, each once
    assert [s.done for s in steps if isinstance(s, Progress) and s.phase == "write"] == list(range(125, 301, 25))
    assert steps[-1] == {"imported": {"skus": 60, "stock_lines": 240, "units": 1200}, "resumed_from": 100}
    resumed = live()
    fresh_text = to_csv(many_skus(59))
    import_with(wiring.product_imports(), fresh_text)
    import_with(wiring.product_imports(), text)  # the same file once more: whole, from the start
    assert live() == resumed and unreachable() == 0


def test_a_different_file_or_a_changed_drop_starts_over(studio: TestClient) -> None:
    text = to_csv(many_skus(60))
    with pytest.raises(Unavailable):
        import_with(DynamoImports(TABLE, call=TimeoutAt(9)), text)
    counting = Counting()
    import_with(DynamoImports(TABLE, call=counting), to_csv(many_skus(61)))
    assert (counting.put, counting.deleted) == (305, 100 + 14)  # all of the new file; what the stopped one
    # left, and the generation replaced (the demo's 2 SKUs and 12 stock lines)
    assert len(live()[0]) == 61 and unreachable() == 0
    with pytest.raises(Unavailable):
        import_with(DynamoImports(TABLE, call=TimeoutAt(9)), text)
    catalog = wiring.catalog_store().drop_catalog("winter-knit")
    assert catalog is not None
    wiring.catalog_store().save_drop(catalog, AuditEntry("winter-knit", "someone", "edit", "tagline", "2026-11-01"))
    counting = Counting()
    import_with(DynamoImports(TABLE, call=counting), text)  # the drop changed: its checks may differ now
    assert (counting.put, counting.deleted) == (300, 100 + 305) and len(live()[0]) == 60 and unreachable() == 0


def test_an_identical_import_takes_over_a_running_one_and_one_goes_live(studio: TestClient) -> None:
    text = to_csv(many_skus(60))
    _, first, written = staged_a_batch(text)
    assert written.done == 25
    second = import_with(wiring.product_imports(), text)
    assert second[-1] == {"imported": {"skus": 60, "stock_lines": 240, "units": 1200}, "resumed_from": 25}
    with pytest.raises(Conflict) as stopped:
        list(first)
    assert stopped.value.code == "import_running" and "took over" in stopped.value.message
    assert len(live()[0]) == 60 and unreachable() == 0


def test_the_packaging_column_is_optional_checked_and_kept_when_left_out(studio: TestClient) -> None:
    assert post_csv(studio, DEMO_CSV.read_text(encoding="utf-8")).status_code == 200  # no packaging column
    download = studio.get("/studio/drops/winter-knit/import/template.csv", headers=AUTH).content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(download.lstrip("\ufeff"))))
    assert {row["packaging"] for row in rows} == {"standard"}
    boxed = [row | {"packaging": "gift-box"} if row["sku"] == "SCF-RUST" else row for row in rows]
    bad = [row | {"packaging": "Gift Box!"} if row["sku"] == "BNE-MOSS" else row for row in boxed]
    refused = post_csv(studio, to_rows(rows[0], bad))
    assert refused.status_code == 422 and {p["field"] for p in refused.json()["error"]["details"]} == {"packaging"}
    assert post_csv(studio, to_rows(rows[0], boxed)).status_code == 200
    assert {sku.sku: sku.packaging for sku in live()[0]}["SCF-RUST"] == "gift-box"
    without = [{k: v for k, v in row.items() if k != "packaging"} for row in rows]
    assert post_csv(studio, to_rows(without[0], without)).status_code == 200
    assert {sku.sku: sku.packaging for sku in live()[0]}["SCF-RUST"] == "gift-box", "kept when the file says nothing"


def to_rows(first: dict[str, str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(first), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
