"""Printed QR tags for a pop-up's rail: every SKU and size the pop-up's drops carry, as A4 label
sheets (SVG) and one PNG per tag. Tags carry a name, colour and size, never a price (prices are the
visitor's, worked out when the tag is scanned).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import segno
from markupsafe import escape

from chalicelib.core.models import DropCatalog, LocalizedText, localized
from chalicelib.tryon.tags import Tag, tag_url

QR_ERROR = "m"  # 15 % of the symbol may be creased or dirty and it still scans
# A4 with 3 × 8 labels of 63.5 × 33.9 mm (the common L7159 layout), in millimetres.
PAGE_W, PAGE_H = 210.0, 297.0
COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 63.5, 33.9
GAP_X = 2.5
MARGIN_X = (PAGE_W - COLUMNS * LABEL_W - (COLUMNS - 1) * GAP_X) / 2
MARGIN_Y = (PAGE_H - ROWS * LABEL_H) / 2
QR_MM = 28.0  # with its quiet zone; ~0.57 mm modules for a version 6 symbol
PER_PAGE = COLUMNS * ROWS


@dataclass(frozen=True, slots=True)
class PrintedTag:
    tag: Tag
    url: str
    name: str
    colour: str
    western_name: str = ""  # the name and colour in a language cp1252 spells (a PDF's built-in font), if any
    western_colour: str = ""

    @property
    def filename(self) -> str:
        return f"{self.tag.sku}-{self.tag.size or 'any'}.png"


def popup_tags(catalogs: list[DropCatalog], popup: str, base_url: str, slug: str | None = None) -> list[PrintedTag]:
    """One tag per SKU and size at ``popup`` (in ``slug``'s drop only, if given), named in the
    drop's home language."""
    tags = []
    for catalog in catalogs:
        if slug is not None and catalog.drop.slug != slug:
            continue
        if not any(loc.id == popup and loc.kind == "popup" for loc in catalog.locations):
            continue
        locale = catalog.drop.default_market.default_locale
        for sku in catalog.skus:
            for size in sku.sizes:
                tag = Tag(popup, sku.sku, size)
                name, colour = localized(sku.name, locale, locale), localized(sku.colour, locale, locale)
                western = western_copy(sku.name, name), western_copy(sku.colour, colour)
                tags.append(PrintedTag(tag, tag_url(base_url, tag), name, colour, *western))
    return tags


def western_copy(text: LocalizedText, home: str) -> str:
    """``home`` if cp1252 (WinAnsi) spells it, else the first of the other copies that it does, else ""."""
    return next((copy for copy in (home, *text.values()) if _spelled_in_cp1252(copy)), "")


def _spelled_in_cp1252(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error=QR_ERROR, boost_error=False)


def tag_png(tag: PrintedTag, scale: int = 10) -> bytes:
    """One tag's QR as a PNG (for label printers), with the standard 4-module quiet zone."""
    out = io.BytesIO()
    qr_code(tag.url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def dark_runs(qr: segno.QRCode) -> Iterator[tuple[int, int, int]]:
    """(column, row, length) of each run of dark modules in a row, without the quiet zone."""
    for y, row in enumerate(qr.matrix_iter(scale=1, border=0)):
        x = 0
        for dark, run in _runs(row):
            if dark:
                yield x, y, run
            x += run


def qr_path(qr: segno.QRCode) -> str:
    """The dark modules as one SVG path, one unit per module, runs of a row merged."""
    return "".join(f"M{x} {y}h{run}v1h-{run}z" for x, y, run in dark_runs(qr))


def _runs(row: Iterable[int]) -> Iterator[tuple[bool, int]]:
    current, length = None, 0
    for module in row:
        dark = bool(module)
        if dark == current:
            length += 1
            continue
        if current is not None:
            yield current, length
        current, length = dark, 1
    if current is not None:
        yield current, length


TEXT_MM = LABEL_W - QR_MM - 4.0


def _fit(text: str, font_mm: float) -> str:
    """Squeeze a line that would overrun the label (at about 0.6 em a character) into its width."""
    return f' textLength="{TEXT_MM}" lengthAdjust="spacingAndGlyphs"' if len(text) * 0.6 * font_mm > TEXT_MM else ""


def pages(tags: list[PrintedTag]) -> int:
    return max(1, -(-len(tags) // PER_PAGE))


@dataclass(frozen=True, slots=True)
class PlacedLabel:
    """A label where it sits on its page, in millimetres from the page's top left corner."""

    tag: PrintedTag
    x: float
    y: float
    qr: segno.QRCode
    qr_x: float  # the symbol's first module, inside its quiet zone
    qr_y: float
    module_mm: float

    @property
    def text_x(self) -> float:
        return self.x + QR_MM + 2.5


def placed(tags: list[PrintedTag], page: int) -> Iterator[PlacedLabel]:
    """The labels of one A4 page (``page`` counts from 1), left to right, then down: the one layout
    the SVG sheets and the PDF share."""
    for index, tag in enumerate(tags[(page - 1) * PER_PAGE : page * PER_PAGE]):
        column, row = index % COLUMNS, index // COLUMNS
        x = MARGIN_X + column * (LABEL_W + GAP_X)
        y = MARGIN_Y + row * LABEL_H
        qr = qr_code(tag.url)
        module_mm = QR_MM / (qr.symbol_size(border=0)[0] + 8)  # 4 modules of quiet zone on each side
        yield PlacedLabel(tag, x, y, qr, x + 1 + 4 * module_mm, y + (LABEL_H - QR_MM) / 2 + 4 * module_mm, module_mm)


def sheet_svg(tags: list[PrintedTag], page: int = 1) -> str:
    """One A4 page of labels (``page`` counts from 1): QR on the left, name, colour and size beside it."""
    labels = []
    for label in placed(tags, page):
        tag, x, y, text_x = label.tag, label.x, label.y, label.text_x
        labels.append(
            f'<g data-sku="{escape(tag.tag.sku)}" data-size="{escape(tag.tag.size or "")}">'
            f'<rect x="{x:.2f}" y="{y:.2f}" width="{LABEL_W}" height="{LABEL_H}" rx="2" class="cut"/>'
            f'<path transform="translate({label.qr_x:.3f} {label.qr_y:.3f}) scale({label.module_mm:.4f})" '
            f'd="{qr_path(label.qr)}"/>'
            f'<text x="{text_x:.2f}" y="{y + 10:.2f}" class="name"{_fit(tag.name, 3.2)}>{escape(tag.name)}</text>'
            f'<text x="{text_x:.2f}" y="{y + 15:.2f}"{_fit(tag.colour, 2.8)}>{escape(tag.colour)}</text>'
            f'<text x="{text_x:.2f}" y="{y + 26:.2f}" class="size">{escape(tag.tag.size or "")}</text>'
            f'<text x="{text_x:.2f}" y="{y + 31:.2f}" class="sku">{escape(tag.tag.sku)}</text>'
            "</g>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_W}mm" height="{PAGE_H}mm" '
        f'viewBox="0 0 {PAGE_W} {PAGE_H}">'
        "<style>text{font:2.8px system-ui,sans-serif;fill:#1c1b19}.name{font-weight:700;font-size:3.2px}"
        ".size{font-weight:700;font-size:8px}.sku{font-size:2.2px;fill:#4a4740}"
        ".cut{fill:#fff;stroke:#ddd8cf;stroke-width:.2}path{fill:#000}</style>"
        '<rect width="100%" height="100%" fill="#fff"/>' + "".join(labels) + "</svg>"
    )
