"""Tag tokens and the QR path, as properties: any tag round-trips; the path draws exactly the symbol."""

from __future__ import annotations

import re

import segno
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.tryon.sheets import qr_path
from chalicelib.tryon.tags import Tag, read_tag, tag_token

popups = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")
skus = st.from_regex(r"\A[A-Z0-9][A-Z0-9-]{0,31}\Z")
sizes = st.none() | st.text(st.characters(exclude_characters="#", exclude_categories=["Cs"]), min_size=1, max_size=16)


@given(popups, skus, sizes)
def test_any_tag_reads_back_as_itself(popup: str, sku: str, size: str | None) -> None:
    tag = Tag(popup, sku, size)
    assert read_tag(tag_token(tag)) == tag


@given(st.text(min_size=1, max_size=120))
def test_the_sheet_path_draws_exactly_the_dark_modules(text: str) -> None:
    qr = segno.make(text, error="m")
    drawn = set()
    for x, y, run in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", qr_path(qr)):
        drawn |= {(int(x) + i, int(y)) for i in range(int(run))}
    dark = {(x, y) for y, row in enumerate(qr.matrix_iter(scale=1, border=0)) for x, on in enumerate(row) if on}
    assert drawn == dark
