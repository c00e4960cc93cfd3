"""The studio's numbers page: headline tiles, the experiments' verdicts and the charts (SVG, with a
CSV each), for the whole drop or a pop-up and a range of local days."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date
from functools import cached_property
from typing import Any, Literal

from pydantic import ConfigDict, field_validator
from starlette.requests import Request
from starlette.responses import Response

from chalicelib import wiring
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.core.model import Model
from chalicelib.core.models import DropCatalog, Slug
from chalicelib.i18n.formatting import money
from chalicelib.numbers import tables as numbers
from chalicelib.numbers.experiments import experiment_results
from chalicelib.numbers.scope import Scope, scoped_counts, scoped_days, scoped_made
from chalicelib.shop.storefront import popup_currency
from chalicelib.studio import charts
from chalicelib.studio.drop_views import private_headers, studio_drop
from chalicelib.studio.web import page, principal_of
from chalicelib.tills.ports import RETURN_REASONS
from chalicelib.web.request import parse_query

CHARTS: dict[str, Callable[[numbers.Table], str]] = {
    "sell-through": charts.lines,
    "qr-funnel": lambda t: charts.bars(t, lambda row: f"{row[0]} · {row[1]}", 2),
    "footfall": lambda t: charts.bars(t, lambda row: f"{row[0]} · {row[1]}", 4, note=2),
    "discount-depth": lambda t: charts.scatter(t, lambda row: f"{row[0]} ({row[1]})", 3, 4, 2),
    "cell-conversion": lambda t: charts.bars(t, lambda row: str(row[0]), 4, note=1),
    "returns": lambda t: charts.bars(t, lambda row: str(row[0]), 4, note=2),
    "returns-by-packaging": lambda t: charts.bars(t, lambda row: str(row[0]), 3, note=1),
    "return-reasons": lambda t: charts.bars(t, lambda row: str(row[0]), 1),
    "customers": lambda t: charts.bars(t, lambda row: str(row[0]), 1),
}


class NumbersQuery(Model):
    """``?popup=&since=&until=``: a pop-up of the drop (empty: every place) and local days, both
    included (empty: open-ended)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    popup: Slug | Literal[""] = ""
    since: date | None = None
    until: date | None = None

    @field_validator("since", "until", mode="before")
    @classmethod
    def _empty_is_open(cls, value: object) -> object:
        return None if value == "" else value


def scope_of(request: Request, catalog: DropCatalog) -> Scope:
    """The page's scope from its query; a clear 400 for a pop-up the drop lacks or days backwards."""
    query = parse_query(request.query_params, NumbersQuery)
    popups = {place.id for place in catalog.locations if place.kind == "popup"}
    if query.popup and query.popup not in popups:
        raise InvalidInput(f"{query.popup} is not one of this drop's pop-ups.", code="invalid_query")
    if query.since and query.until and query.since > query.until:
        raise InvalidInput("The first day comes after the last: swap them.", code="invalid_query")
    return Scope(query.popup or None, query.since, query.until)


class NumbersRead:
    """A drop's counters for its numbers in ``scope``, each read from the store once, when first needed."""

    def __init__(self, catalog: DropCatalog, scope: Scope | None = None) -> None:
        self.catalog = catalog
        self.scope = scope or Scope()

    @cached_property
    def counts(self) -> dict[str, int]:
        return scoped_counts(wiring.numbers().counts(self.catalog.drop.slug), self.scope)

    @cached_property
    def stock(self) -> tuple[dict[tuple[str, str, str], dict[str, int]], dict[tuple[str, str], int]]:
        days, made = wiring.stock().day_counters(self.catalog.drop.slug, self.catalog.drop.generation)
        return scoped_days(days, self.scope), scoped_made(made, self.scope)

    @cached_property
    def footfall(self) -> dict[tuple[str, str], int]:
        """The door counters' day totals at the drop's pop-ups, by (pop-up, local date), in scope."""
        tills = wiring.tills()
        return {
            (place.id, day): people
            for place in self.catalog.locations
            if place.kind == "popup" and self.scope.place(place.id)
            for day, people in tills.footfall_days(place.id).items()
            if self.scope.day(day)
        }

    @cached_property
    def funnel(self) -> dict[tuple[str, str, str], dict[str, int]]:
        return scoped_days(wiring.tryons().funnel(self.catalog.drop.slug), self.scope)


def drop_numbers(read: NumbersRead, wanted: Collection[str] = tuple(CHARTS)) -> dict[str, numbers.Table]:
    """The ``wanted`` tables, each from its own counters (``read``: each store read at most once)."""
    tables = []
    if {"sell-through", "returns", "returns-by-packaging"} & set(wanted):
        tables.append(numbers.sell_through(*read.stock))
        packaging = {sku.sku: sku.packaging for sku in read.catalog.skus}
        tables += numbers.return_rates(read.counts, read.stock[0], packaging)
    if "qr-funnel" in wanted:
        tables.append(numbers.qr_funnel(read.funnel))
    if "footfall" in wanted:
        tables.append(numbers.footfall(read.footfall, read.stock[0]))
    if "customers" in wanted:
        tables.append(numbers.customers(read.counts, popup_costs(read.catalog)))
    if {"discount-depth", "cell-conversion", "return-reasons"} & set(wanted):
        tables += [numbers.discount_depth(read.counts), numbers.cell_conversion(read.counts)]
        tables.append(numbers.return_reasons(read.counts, RETURN_REASONS))
    return {table.name: table for table in tables if table.name in wanted}


def popup_costs(catalog: DropCatalog) -> dict[str, tuple[int, str]]:
    """What each pop-up cost for the drop, as the studio recorded it, with its currency."""
    places = {place.id: place for place in catalog.locations}
    return {
        popup: (minor, popup_currency(catalog, places[popup]))
        for popup, minor in catalog.drop.popup_costs.items()
        if popup in places
    }


def customer_rows(table: numbers.Table) -> list[dict[str, str]]:
    """The customers table in words and the merchant's units, a row per pop-up."""
    rows = []
    for popup, new, returning, purchases, per_customer, currency, cost, per_new in table.rows:
        rows.append(
            {
                "popup": str(popup),
                "new": f"{new:,}",
                "returning": f"{returning:,}",
                "purchases": f"{purchases:,}",
                "per_customer": f"{int(per_customer) / 100:.2f}" if new or returning else "none yet",
                "cost": money(int(cost), str(currency), "en") if currency else "not recorded",
                "per_new": money(int(per_new), str(currency), "en") if currency and new else "—",
            }
        )
    return rows


def headline_tiles(read: NumbersRead) -> list[tuple[str, str]]:
    """The numbers page's tiles: each figure of ``numbers.headline`` named and written in words."""
    figures = numbers.headline(read.counts, *read.stock, read.funnel)
    return [
        ("Revenue", _amounts(figures.revenue_minor)),
        ("Units sold", f"{figures.units:,}"),
        ("Sell-through", _percent(figures.sell_through_bps / 10_000)),
        ("Average discount", _percent(figures.discount_bps / 10_000)),
        ("Margin recovered", _percent(figures.margin_recovered_bps / 10_000)),
        ("Try-ons per QR scan", _percent(figures.tryon_bps / 10_000)),
        ("Returned within 30 days", _percent(figures.return_bps / 10_000)),
    ]


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def _amounts(minor: Mapping[str, int]) -> str:
    return ", ".join(money(value, currency, "en") for currency, value in sorted(minor.items())) or "none"


def experiment_views(slug: str, counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """The drop's experiments as the numbers page shows them: per cell, in words and the merchant's
    units, with the verdicts (``numbers.experiments``), from the offer ``counts``."""
    policy = wiring.catalog_store().pricing_policy(slug)
    if policy is None or not policy.experiments:
        return []
    shown = []
    for result in experiment_results(policy.experiments, counts):
        weights = sum(cell.weight for cell in result.cells) or 1
        rows = [
            {
                "cell": cell.cell,
                "share": _percent(cell.weight / weights),
                "visitors": f"{cell.visitors:,}",
                "bookings": f"{cell.bookings:,}",
                "till_sales": f"{cell.till_sales:,}",
                "units": f"{cell.units:,}",
                "revenue": _amounts(cell.revenue_minor),
                "margin": _amounts(cell.margin_minor),
                "conversion": f"{_percent(cell.conversion)} ({' to '.join(_percent(end) for end in cell.interval)})"
                if cell.visitors
                else "no visitors yet",
            }
            for cell in result.cells
        ]
        shown.append(
            {"experiment": result.experiment, "rows": rows, "srm_p": f"{result.srm_p:.3g}", "verdicts": result.verdicts}
        )
    return shown


def scope_query(scope: Scope) -> str:
    """The scope as the page's query string (the CSV and SVG links keep it)."""
    pairs = {"popup": scope.popup or "", "since": str(scope.first or ""), "until": str(scope.last or "")}
    return "&".join(f"{name}={value}" for name, value in pairs.items() if value)


async def numbers_page(request: Request) -> Response:
    principal = principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    scope = scope_of(request, catalog)
    read = NumbersRead(catalog, scope)  # each counter read once, for the tiles, the charts and the experiments
    tables = drop_numbers(read)
    svgs = {name: CHARTS[name](table) for name, table in tables.items()}
    experiments = experiment_views(catalog.drop.slug, read.counts)
    tiles = headline_tiles(read)
    return page(
        "numbers.html",
        principal=principal,
        catalog=catalog,
        tables=tables,
        svgs=svgs,
        experiments=experiments,
        tiles=tiles,
        customers=customer_rows(tables["customers"]),
        scope=scope,
        query=scope_query(scope),
        popups=[place for place in catalog.locations if place.kind == "popup"],
        zone=catalog.drop.default_market.timezone,
    )


async def numbers_export(request: Request) -> Response:
    principal_of(request)
    slug, chart, kind = request.path_params["slug"], request.path_params["chart"], request.path_params["kind"]
    if chart not in CHARTS or kind not in ("csv", "svg"):
        raise NotFound(f"There is no chart called {chart!r}.", code="chart_not_found")
    catalog = studio_drop(slug)
    tables = drop_numbers(NumbersRead(catalog, scope_of(request, catalog)), (chart,))
    if kind == "csv":
        disposition = f'attachment; filename="{slug}-{chart}.csv"'
        headers = {**private_headers(), "Content-Disposition": disposition}
        return Response(charts.to_csv(tables[chart]), media_type="text/csv; charset=utf-8", headers=headers)
    headers = {**private_headers(), "Content-Security-Policy": "default-src 'none'"}
    return Response(CHARTS[chart](tables[chart]), media_type="image/svg+xml", headers=headers)
