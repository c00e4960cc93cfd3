"""Every page of a pop-up's tag sheets as one PDF, to print in one job: the SVG sheets' layout
(``sheets.placed``), QR modules as filled squares, text in PDF's built-in Helvetica.

The built-in fonts embed nothing, so the file stays small and needs no font in the package, but
they spell only cp1252 (WinAnsi): a name in another script prints in the first of the SKU's
languages that cp1252 spells, else only the SKU code and size, which every label carries. The SVG
sheets print any script.
"""

from __future__ import annotations

import io

import pydyf

from chalicelib.tryon import helvetica
from chalicelib.tryon.sheets import (
    LABEL_H,
    LABEL_W,
    PAGE_H,
    PAGE_W,
    TEXT_MM,
    PlacedLabel,
    PrintedTag,
    dark_runs,
    pages,
    placed,
)

POINTS_PER_MM = 72 / 25.4
FONTS = {"Regular": ("Helvetica", helvetica.REGULAR), "Bold": ("Helvetica-Bold", helvetica.BOLD)}


def text_width_mm(text: str, font: str, size_mm: float) -> float:
    """How wide ``text`` sets in a built-in font at ``size_mm``."""
    widths = FONTS[font][1]
    return sum(widths[code - helvetica.FIRST_CODE] for code in text.encode("cp1252") if code >= 32) * size_mm / 1000


class _Page:
    """One page's content stream, drawn in millimetres from the top left as the SVG is."""

    def __init__(self) -> None:
        self.stream = pydyf.Stream(compress=True)

    def box(self, x: float, y: float, width: float, height: float) -> None:
        self.stream.rectangle(*(v * POINTS_PER_MM for v in (x, PAGE_H - y - height, width, height)))

    def text(self, x: float, y: float, text: str, font: str, size_mm: float, grey: bool = False) -> None:
        """``text`` on its baseline at ``y``, squeezed into the label's text column if it would overrun."""
        if not text:
            return
        width = text_width_mm(text, font, size_mm)
        self.stream.begin_text()
        self.stream.set_color_rgb(*((0.29, 0.28, 0.25) if grey else (0.11, 0.11, 0.1)))
        self.stream.set_font_size(font, size_mm * POINTS_PER_MM)
        self.stream.stream.append(f"{min(100.0, 100 * TEXT_MM / width):.1f} Tz".encode())
        self.stream.set_text_matrix(1, 0, 0, 1, x * POINTS_PER_MM, (PAGE_H - y) * POINTS_PER_MM)
        self.stream.show_text_string(text.encode("cp1252"))
        self.stream.end_text()

    def label(self, label: PlacedLabel) -> None:
        tag = label.tag
        self.stream.set_color_rgb(0.87, 0.85, 0.81, stroke=True)
        self.stream.set_line_width(0.2 * POINTS_PER_MM)
        self.box(label.x, label.y, LABEL_W, LABEL_H)
        self.stream.stroke()
        self.stream.set_color_rgb(0, 0, 0)
        module = label.module_mm
        for column, row, run in dark_runs(label.qr):
            self.box(label.qr_x + column * module, label.qr_y + row * module, run * module, module)
        self.stream.fill()
        x, y = label.text_x, label.y
        self.text(x, y + 10, tag.western_name, "Bold", 3.2)
        self.text(x, y + 15, tag.western_colour, "Regular", 2.8)
        self.text(x, y + 26, tag.tag.size or "", "Bold", 8)
        self.text(x, y + 31, tag.tag.sku, "Regular", 2.2, grey=True)


def sheets_pdf(tags: list[PrintedTag], title: str) -> bytes:
    """All of ``tags``' A4 sheets, a page each, as one PDF named ``title``."""
    document = pydyf.PDF()
    fonts = pydyf.Dictionary(
        {
            key: pydyf.Dictionary(
                {"Type": "/Font", "Subtype": "/Type1", "BaseFont": f"/{base}", "Encoding": "/WinAnsiEncoding"}
            )
            for key, (base, _) in FONTS.items()
        }
    )
    document.add_object(fonts)
    for number in range(1, pages(tags) + 1):
        page = _Page()
        for label in placed(tags, number):
            page.label(label)
        document.add_object(page.stream)
        document.add_page(
            pydyf.Dictionary(
                {
                    "Type": "/Page",
                    "Parent": document.pages.reference,
                    "MediaBox": pydyf.Array([0, 0, PAGE_W * POINTS_PER_MM, PAGE_H * POINTS_PER_MM]),
                    "Contents": page.stream.reference,
                    "Resources": pydyf.Dictionary({"Font": fonts.reference}),
                }
            )
        )
    document.info["Title"] = pydyf.String(title)
    document.info["Creator"] = pydyf.String("dropfront studio")
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()
