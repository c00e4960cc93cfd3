"""Server-rendered SVG charts and CSV for the numbers' tables: no script and no CDN in the page.

Every label is escaped; sizes are fixed so a chart reserves its space before it paints.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from html import escape

from chalicelib.numbers.tables import Table
from chalicelib.studio.pricing import percent_number

WIDTH, ROW, LEFT, PAD = 640, 26, 210, 24
PALETTE = ("#1c1b19", "#b3261e", "#0b6e4f", "#2f5fb3", "#9a6700", "#6b3fa0", "#00707a", "#7a4a2a")
_FONT = 'font-family="system-ui,sans-serif" font-size="12"'


def _svg(height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" {_FONT}><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _percent(bps: int) -> str:
    return f"{bps / 100:.1f} %"


COLUMN_WORDS = {
    "sku_location": "SKU at place",
    "popup": "pop-up",
    "sku_popup": "SKU at pop-up",
    "purchases_per_customer_x100": "purchases per customer (hundredths)",
    "popup_cost_minor": "pop-up cost (in cents or the currency's smallest unit)",
    "cost_per_new_customer_minor": "cost per new customer (in cents or the currency's smallest unit)",
}


def column_words(name: str) -> str:
    """A table's column as a person reads it: ``cumulative_sell_through_bps`` → "cumulative sell
    through (%)" (its cells are shown in percent)."""
    if name in COLUMN_WORDS:
        return COLUMN_WORDS[name]
    words = name.removesuffix("_bps").replace("_", " ")
    return f"{words} (%)" if name.endswith("_bps") else words


def _empty(table: Table) -> str:
    return _svg(60, table.title, [f'<text x="{PAD}" y="34">No data yet.</text>'])


def bars(table: Table, label: Callable[[Sequence[str | int]], str], value: int, note: int | None = None) -> str:
    """Horizontal bars, one per row: ``value`` is the column measured; ``note`` adds ``n=…``."""
    if not table.rows:
        return _empty(table)
    peak = max(int(row[value]) for row in table.rows) or 1
    is_bps = table.columns[value].endswith("_bps")
    body = []
    for i, row in enumerate(table.rows):
        y, amount = PAD + i * ROW, int(row[value])
        width = (WIDTH - LEFT - 110) * amount // peak
        shown = _percent(amount) if is_bps else str(amount)
        if note is not None:
            shown += f" (n={row[note]})"
        body.append(
            f'<text x="{LEFT - 8}" y="{y + 16}" text-anchor="end">{escape(label(row))}</text>'
            f'<rect x="{LEFT}" y="{y + 4}" width="{width}" height="{ROW - 8}" fill="{PALETTE[0]}"/>'
            f'<text x="{LEFT + width + 6}" y="{y + 16}">{escape(shown)}</text>'
        )
    return _svg(2 * PAD + ROW * len(table.rows), table.title, body)


def lines(table: Table) -> str:
    """One polyline per series (first column) over the days (second column), y = the last column in bps."""
    if not table.rows:
        return _empty(table)
    days = sorted({str(row[1]) for row in table.rows})
    series: dict[str, list[tuple[int, int]]] = {}
    for row in table.rows:
        series.setdefault(str(row[0]), []).append((days.index(str(row[1])), int(row[-1])))
    top = max(10_000, max(int(row[-1]) for row in table.rows))
    plot_h, legend_h = 220, 18 * len(series)
    step = (WIDTH - 2 * PAD - 40) / max(len(days) - 1, 1)

    def xy(day: int, bps: int) -> tuple[float, float]:
        return PAD + 40 + day * step, PAD + plot_h - plot_h * bps / top

    body = [
        f'<line x1="{PAD + 40}" y1="{PAD + plot_h}" x2="{WIDTH - PAD}" y2="{PAD + plot_h}" stroke="#888"/>',
        f'<text x="{PAD}" y="{PAD + 4}">{_percent(top)}</text><text x="{PAD}" y="{PAD + plot_h}">0 %</text>',
    ]
    body += [f'<text x="{xy(i, 0)[0]:.1f}" y="{PAD + plot_h + 16}">{escape(d)}</text>' for i, d in enumerate(days)]
    for n, (name, points) in enumerate(sorted(series.items())):
        colour = PALETTE[n % len(PALETTE)]
        dots = [xy(day, bps) for day, bps in points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in dots)
        legend = PAD + plot_h + 36 + 18 * n
        body.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
            + "".join(f'<circle r="3" fill="{colour}" cx="{x:.1f}" cy="{y:.1f}"/>' for x, y in dots)
            + f'<rect x="{PAD + 40}" y="{legend - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{PAD + 58}" y="{legend}">{escape(name)}</text>'
        )
    return _svg(PAD + plot_h + 40 + legend_h, table.title, body)


def scatter(table: Table, label: Callable[[Sequence[str | int]], str], x: int, y: int, size: int) -> str:
    """A dot per row at (x, y), both in bps on 0–100 %, its area growing with the ``size`` column."""
    if not table.rows:
        return _empty(table)
    side = 300
    peak = max(int(row[size]) for row in table.rows) or 1
    body = [
        f'<rect x="{LEFT}" y="{PAD}" width="{side}" height="{side}" fill="none" stroke="#888"/>',
        f'<text x="{LEFT}" y="{PAD + side + 18}">0 %</text>',
        f'<text x="{LEFT + side}" y="{PAD + side + 18}" text-anchor="end">{_axis_end(table.columns[x])}</text>',
        f'<text x="{LEFT - 6}" y="{PAD + 10}" text-anchor="end">{_axis_end(table.columns[y])}</text>',
    ]
    for n, row in enumerate(table.rows):
        cx = LEFT + side * min(int(row[x]), 10_000) / 10_000
        cy = PAD + side - side * max(min(int(row[y]), 10_000), 0) / 10_000
        radius = 4 + 10 * (int(row[size]) / peak) ** 0.5
        colour = PALETTE[n % len(PALETTE)]
        body.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" fill="{colour}" fill-opacity=".7"/>'
            f'<text x="{cx + radius + 3:.1f}" y="{cy + 4:.1f}">{escape(label(row))}</text>'
        )
    return _svg(side + 2 * PAD + 20, table.title, body)


def _axis_end(column: str) -> str:
    """The label at the 100 % end of a percent axis: "discount depth 100 %"."""
    return escape(column_words(column).removesuffix(" (%)") + " 100 %")


def to_csv(table: Table) -> str:
    """The table for a spreadsheet: columns in words, basis points as percent, and no cell a
    spreadsheet would run as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column_words(name) for name in table.columns])
    in_bps = [name.endswith("_bps") for name in table.columns]
    for row in table.rows:
        cells = [percent_number(int(cell)) if bps else cell for cell, bps in zip(row, in_bps, strict=True)]
        writer.writerow(["'" + cell if isinstance(cell, str) and cell[:1] in "=+-@" else cell for cell in cells])
    return out.getvalue()
