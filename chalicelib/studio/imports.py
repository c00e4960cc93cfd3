"""Importing a drop's products, sizes and stock from CSV: streamed, checked row by row with every
problem reported, then written all together or not at all.

One row per SKU, size and location, separated by commas, semicolons (Excel's default where the
decimal mark is a comma) or tabs, whichever the header uses::

    sku,product,size,location,on_hand,swatch,name.en,colour.en,price.EUR,cost.EUR[,name.fr,…]

``name.<locale>`` and ``colour.<locale>`` give the copy (the drop's first locale is required);
``price.<CUR>`` and ``cost.<CUR>`` are amounts in major units for every currency the drop sells in.
Rows of one SKU must agree on everything but size, location and units. The import replaces the
drop's products and stock, so it runs before the drop starts (a live drop's stock moves with sales).
It is written as a new generation of the drop, beside the live one, and made live by one conditional
write: shoppers see the old products until then, and a timeout or a crash changes nothing they see.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from chalicelib.core import records
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict, DomainError, Unavailable, Unprocessable
from chalicelib.core.models import SKU_PATTERN, DropCatalog, Sku
from chalicelib.i18n.formatting import major_units
from chalicelib.pricing.reference import with_change
from chalicelib.stock.ports import ProductWriter, StockLine
from chalicelib.stock.shards import spread_lines
from chalicelib.studio.drops import to_minor
from chalicelib.web.request import validation_problems

MAX_ROWS = 20_000
MAX_UNITS = 100_000
MAX_REPORTED = 200
SKU = re.compile(SKU_PATTERN)
SIZE = re.compile(r"^[^#]{1,16}$")
SWATCH = re.compile(r"^#[0-9a-fA-F]{6}$")
PROGRESS_EVERY = 100
SEPARATORS = (",", ";", "\t")


def separator(header: str) -> str:
    """The separator the header line uses. No column name contains one, so the one it holds most
    of is it (a comma when it holds none: a file of one column)."""
    return max(SEPARATORS, key=header.count)


def column_name(index: int) -> str:
    """A spreadsheet's name for the 1-based column ``index``: 1 → "A", 27 → "AA"."""
    name = ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


@dataclass(frozen=True)
class Progress:
    """How far an import has got: rows checked, or transactions written."""

    phase: Literal["check", "write"]
    done: int
    total: int


@dataclass
class CatalogImport:
    """Reads the CSV for ``drop``; after ``check`` has run, ``problems`` lists every problem (by
    line), and ``skus`` and ``stock`` hold what will be written if there are none."""

    drop: DropCatalog
    now: datetime | None = None  # when it is imported: a list price it changes is kept as the "was" price
    problems: list[dict[str, Any]] = field(default_factory=list)
    skus: list[Sku] = field(default_factory=list)
    stock: list[StockLine] = field(default_factory=list)
    _first: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _sizes: dict[str, list[str]] = field(default_factory=dict)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)
    _header: list[str] = field(default_factory=list)

    def _problem(self, line: int, column: str, problem: str) -> None:
        """A problem at a row (the file's line) and a column (by name; the first of several named
        gives the spreadsheet column, as Excel and Numbers show it)."""
        if len(self.problems) < MAX_REPORTED:
            found: dict[str, Any] = {"line": line, "field": column, "problem": problem}
            first = column.split(",")[0]
            if first in self._header:
                found["column"] = column_name(self._header.index(first) + 1)
            self.problems.append(found)

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(market.currency for market in self.drop.drop.markets))

    def required_columns(self) -> tuple[str, ...]:
        locale = self.drop.drop.default_market.default_locale
        money = tuple(f"{kind}.{c}" for c in self.currencies for kind in ("price", "cost"))
        return ("sku", "product", "size", "location", "on_hand", "swatch", f"name.{locale}", f"colour.{locale}", *money)

    def check(self, lines: Iterable[str], total_rows: int) -> Iterator[Progress]:
        """Check each row as it streams in, yielding progress every hundred rows."""
        rows_in = iter(lines)
        header = next(rows_in, "")
        delimiter = separator(header)
        reader = csv.DictReader(itertools.chain((header,), rows_in), delimiter=delimiter)
        self._header = list(reader.fieldnames or ())
        missing = [column for column in self.required_columns() if column not in (reader.fieldnames or ())]
        if missing:
            sep = {",": "commas", ";": "semicolons", "\t": "tabs"}[delimiter]
            self._problem(1, ",".join(missing), f"the header (read as separated by {sep}) is missing these columns")
            return
        rows = 0
        for row in reader:
            rows += 1
            if rows > MAX_ROWS:
                self._problem(reader.line_num, "", f"an import has at most {MAX_ROWS} rows")
                break
            self._row(reader.line_num, row)
            if rows % PROGRESS_EVERY == 0:
                yield Progress("check", rows, max(total_rows, rows))
        self._build()
        yield Progress("check", rows, rows)

    def _row(self, line: int, row: dict[str, Any]) -> None:
        if None in row:
            self._problem(line, "", "this row has more values than the header has columns")
            return
        value = {key: (text or "").strip() for key, text in row.items() if key}
        sku, size, location = value["sku"], value["size"], value["location"]
        ok = True
        for column, pattern, hint in (
            ("sku", SKU, "upper-case letters, digits and dashes"),
            ("size", SIZE, "1 to 16 characters, no #"),
            ("swatch", SWATCH, "a colour like #1c1b19"),
        ):
            if not pattern.match(value[column]):
                self._problem(line, column, f"needs {hint}")
                ok = False
        if location not in self.drop.drop.location_ids:
            self._problem(line, "location", f"{location!r} is not one of this drop's locations")
            ok = False
        try:
            units = int(value["on_hand"])
            if not 0 <= units <= MAX_UNITS:
                raise ValueError
        except ValueError:
            self._problem(line, "on_hand", f"needs a whole number from 0 to {MAX_UNITS}")
            ok = False
        product: dict[str, Any] = {
            "product": value["product"],
            "swatch": value["swatch"],
            "name": {k[5:]: v for k, v in value.items() if k.startswith("name.") and v},
            "colour": {k[7:]: v for k, v in value.items() if k.startswith("colour.") and v},
            **({"packaging": value["packaging"]} if value.get("packaging") else {}),  # optional column
        }
        for kind, target in (("price", "list_prices"), ("cost", "costs")):
            product[target] = {}
            for currency in self.currencies:
                try:
                    product[target][currency] = to_minor(value[f"{kind}.{currency}"], currency)
                except ValueError as error:
                    self._problem(line, f"{kind}.{currency}", str(error))
                    ok = False
        if not ok:
            return
        if (sku, size, location) in self._seen:
            self._problem(line, "sku", f"{sku} {size} at {location} is listed twice")
            return
        first = self._first.setdefault(sku, (line, product))
        if first[1] != product:
            differs = sorted(k for k in product if product[k] != first[1].get(k))
            self._problem(line, ",".join(differs), f"differs from {sku} on line {first[0]}")
            return
        self._seen.add((sku, size, location))
        sizes = self._sizes.setdefault(sku, [])
        if size not in sizes:
            sizes.append(size)
        self.stock.append(StockLine(sku, size, location, units))

    def _build(self) -> None:
        """Each SKU from its rows; what the CSV cannot say (fit video, fabric) is kept from before, and
        so is the packaging variant when the file has no column for it."""
        before = {sku.sku: sku for sku in self.drop.skus}
        for sku, (line, product) in self._first.items():
            old = before.get(sku)
            kept = records.dump(old, include={"fit_video", "fabric", "packaging"}) if old else {}
            if old and self.now and isinstance(product.get("list_prices"), dict):
                kept["price_history"] = with_change(
                    old.price_history, old.list_prices, product["list_prices"], self.now
                )
            try:
                self.skus.append(records.validate(Sku, {**kept, **product, "sku": sku, "sizes": self._sizes[sku]}))
            except ValidationError as error:
                for problem in validation_problems(error, limit=100):
                    self._problem(line, problem["field"], problem["problem"])

    def raise_problems(self) -> None:
        if self.problems:
            raise Unprocessable(
                f"Nothing was imported: {len(self.problems)} problem(s) to fix.",
                code="import_invalid",
                details=self.problems,
            )


def template_csv(catalog: DropCatalog, available: Mapping[tuple[str, str, str], int]) -> str:
    """The drop as an import file: every column it takes (copy for each of its locales), one row per
    SKU, size and location with the units ``available`` now, so editing it and importing it back
    changes only what was edited. A drop without products gets one example row to copy."""
    locales = catalog.drop.locales
    columns = [
        *CatalogImport(catalog).required_columns(),
        *(f"{kind}.{locale}" for locale in locales[1:] for kind in ("name", "colour")),
        "packaging",
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n")
    writer.writeheader()
    for sku in catalog.skus:
        product = {
            "sku": sku.sku,
            "product": sku.product,
            "swatch": sku.swatch,
            "packaging": sku.packaging,
            **{f"name.{locale}": text for locale, text in sku.name.items() if locale in locales},
            **{f"colour.{locale}": text for locale, text in sku.colour.items() if locale in locales},
            **{f"price.{c}": major_units(m, c) for c, m in sku.list_prices.items()},
            **{f"cost.{c}": major_units(m, c) for c, m in sku.costs.items()},
        }
        lines = [(size, place) for size in sku.sizes for place in catalog.drop.location_ids]
        stocked = [line for line in lines if (sku.sku, *line) in available]
        for size, place in stocked or [(size, catalog.drop.location_ids[0]) for size in sku.sizes]:
            units = available.get((sku.sku, size, place), 0)
            writer.writerow({**product, "size": size, "location": place, "on_hand": units})
    if not catalog.skus:
        example = {"sku": "TEE-ECRU", "product": "tee", "size": "M", "location": catalog.drop.location_ids[0]}
        writer.writerow({**example, "on_hand": 10, "swatch": "#efe9dc"})
    return "\ufeff" + out.getvalue()  # a byte-order mark, so spreadsheets read it as UTF-8


LIVE_MARGIN = timedelta(minutes=1)
"""An import goes live at least this long before its drop opens, so no process's cached catalog
(10 s) still points at the retired stock when sales begin."""


def run_import(
    store: ProductWriter,
    catalog: DropCatalog,
    text: str,
    audit: Callable[[str], AuditEntry],
    clock: Callable[[], datetime],
) -> Iterator[Progress | dict[str, Any]]:
    """Check every row, then stage all of it beside the live drop and switch to it at once:
    progress as it goes, then the outcome. A timeout or a crash at any point leaves the live drop
    exactly as it was, and importing the same file again resumes where it stopped. ``audit`` makes
    the log entry from a summary of what is imported."""
    _refuse_if_too_late(catalog, clock())
    job = CatalogImport(catalog, now=clock())
    yield from job.check(text.splitlines(keepends=True), max(text.count("\n") - 1, 1))
    job.raise_problems()
    units = sum(line.on_hand for line in job.stock)
    entry = audit(f"imported {len(job.skus)} SKUs, {len(job.stock)} stock lines, {units} units")
    stock = list(spread_lines(job.stock, catalog.drop.stock_shards))  # a sharded drop's sizes, already spread
    total = len(job.skus) + len(stock)
    lease = store.begin_import(catalog, total, entry.who, clock(), _digest(catalog, text))
    try:
        for done in store.stage(lease, job.skus, stock, clock):
            yield Progress("write", done, total)
        _refuse_if_too_late(catalog, clock())
        store.go_live(lease, entry, clock())
    except DomainError as error:
        why = "The database did not answer in time." if isinstance(error, Unavailable) else error.message
        with suppress(DomainError):  # unrecorded, the lease goes stale; the next import clears what it staged
            store.fail(lease, why, clock())
        raise
    store.retire(lease, clock())
    outcome: dict[str, Any] = {"imported": {"skus": len(job.skus), "stock_lines": len(job.stock), "units": units}}
    if lease.resume_from:
        outcome["resumed_from"] = lease.resume_from  # items a stopped import of the same file had written
    yield outcome


def _digest(catalog: DropCatalog, text: str) -> str:
    """Names an import: the same file on the same drop, unchanged since, writes the same items in
    the same order, so a stopped import of it can be resumed rather than started over."""
    drop = catalog.drop
    return hashlib.sha256(f"{drop.slug}#{drop.revision}#{drop.generation}\n{text}".encode()).hexdigest()


def _refuse_if_too_late(catalog: DropCatalog, now: datetime) -> None:
    if now >= catalog.drop.starts_at - LIVE_MARGIN:
        raise Conflict(
            "This drop has started, or starts within a minute: its stock now moves with sales, so it cannot be "
            "re-imported.",
            code="drop_started",
        )
