"""Printed tags: every QR decodes (zxing-cpp, an independent reader) to a URL that opens its garment."""

from __future__ import annotations

import io

import zxingcpp
from chalice.test import Client
from PIL import Image

from chalicelib.tryon.sheets import QR_ERROR, popup_tags, qr_code, tag_png
from chalicelib.tryon.tags import Tag, tag_url
from devtools.seed import DemoDrop
from tests.conftest import html_of

PRODUCTION = "https://shop.example-brand.com"

QR = zxingcpp.BarcodeFormats(
    zxingcpp.BarcodeFormat.QRCode
)  # only QR: a 1D reader can find a spurious barcode in a QR's modules


def decode(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=QR)]


def test_every_tags_png_decodes_to_its_url_and_the_url_opens_that_garment(client: Client, demo: list[DemoDrop]) -> None:
    catalogs = [d.catalog for d in demo]
    tags = popup_tags(catalogs, "paris-marais", "http://localhost")
    assert len(tags) == sum(len(s.sizes) for c in catalogs for s in c.skus)
    for tag in tags:
        assert decode(tag_png(tag)) == [tag.url]
        response = client.http.get(tag.url.removeprefix("http://localhost"), headers={"Accept-Language": "en"})
        assert response.status_code == 200
        page = html_of(response)
        assert f'data-sku="{tag.tag.sku}"' in page and f'value="{tag.tag.size}"' in page
        assert f"<h1>{tag.name}</h1>" in page


def test_a_production_tag_fits_a_version_6_qr(client: Client) -> None:
    """Measured: a try-on URL on a typical shop domain is about 100 characters, so a version 6 symbol
    (41 × 41 modules) at error level M: 0.57 mm modules on a 28 mm label."""
    url = tag_url(PRODUCTION, Tag("paris-marais", "OVR-SAND", "XL"))
    assert len(url) <= 106  # what a version 6 symbol holds at level M, in byte mode
    symbol = qr_code(url)
    assert (symbol.version, symbol.error) == (6, QR_ERROR.upper())
