"""The QR tag sheets as one PDF: a page per A4 sheet, every tag's QR scans to its try-on URL, and its
text names the piece (in a language the PDF's built-in font spells), its size and its SKU."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image

from chalicelib.tryon.sheet_pdf import sheets_pdf, text_width_mm
from chalicelib.tryon.sheets import PER_PAGE, TEXT_MM, PrintedTag, western_copy
from chalicelib.tryon.tags import Tag


def tags(count: int) -> list[PrintedTag]:
    return [
        PrintedTag(
            Tag("paris-marais", f"SKU-{n:03d}", "M"),
            f"https://shop.example/t/tag-{n:03d}",
            f"ジャケット {n}",
            "藍",
            western_name=f"Veste (très) longue, édition {n} — with a name far too long for the label",
            western_colour="Indigo",
        )
        for n in range(count)
    ]


def rendered(pdf: bytes, tmp_path: Path) -> list[Path]:
    source = tmp_path / "tags.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(source), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page-*.png"))


def test_every_sheet_is_a_page_and_every_qr_scans_to_its_tag(tmp_path: Path) -> None:
    printed = tags(PER_PAGE + 5)
    pdf = sheets_pdf(printed, "QR tags: linen-lab at paris-marais")
    assert pdf.startswith(b"%PDF-")
    pages = rendered(pdf, tmp_path)
    assert len(pages) == 2
    for number, png in enumerate(pages):
        found = {code.text for code in zxingcpp.read_barcodes(Image.open(png))}
        expected = {tag.url for tag in printed[number * PER_PAGE : (number + 1) * PER_PAGE]}
        assert found == expected


def test_the_text_is_the_western_copy_size_and_sku(tmp_path: Path) -> None:
    source = tmp_path / "tags.pdf"
    source.write_bytes(sheets_pdf(tags(2), "QR tags"))
    text = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True).stdout.decode()
    assert "SKU-001" in text and "Indigo" in text and re.search(r"\bM\b", text)
    assert "Veste (très) longue, édition 1" in text  # cp1252, parentheses escaped


def test_long_names_are_measured_to_squeeze_into_the_text_column() -> None:
    assert text_width_mm("WWWW", "Bold", 3.2) > text_width_mm("iiii", "Bold", 3.2) > 0
    assert text_width_mm(tags(1)[0].western_name, "Bold", 3.2) > TEXT_MM  # so the PDF scales it to fit


def test_a_name_no_built_in_font_spells_falls_back_to_another_language() -> None:
    assert western_copy({"ja": "ジャケット", "en": "Jacket"}, "ジャケット") == "Jacket"
    assert western_copy({"fr": "Veste é"}, "Veste é") == "Veste é"
    assert western_copy({"ja": "ジャケット"}, "ジャケット") == ""
