"""A SKU's picture, set from the studio: the drop page's script crops and scales the marketer's photo
to 4:3 WebP at each width the landing page offers (the browser does the image work, so the Lambda
package carries no imaging library); the server checks each file is the WebP it says, at its size,
stores them under a name made of their content, and points the SKU at them, with an audit entry."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import replace
from typing import Annotated

from pydantic import ConfigDict, Field

from chalicelib.catalog.ports import MediaStore
from chalicelib.core.errors import NotFound, Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import PRODUCT_IMAGE_WIDTHS, DropCatalog

MAX_PICTURE_BYTES = 600_000  # per width: a 720 px WebP photo is 30–120 KB


class PictureUpload(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    csrf: Annotated[str, Field(max_length=512)] = ""
    revision: int
    pictures: dict[str, Annotated[str, Field(max_length=MAX_PICTURE_BYTES * 4 // 3 + 4)]]  # width → base64


def webp_size(data: bytes) -> tuple[int, int]:
    """A WebP file's width and height from its header (lossy, lossless or extended); ``ValueError``
    for anything else."""
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise ValueError("not a WebP image this shop can read")


def with_picture(catalog: DropCatalog, sku_code: str, upload: PictureUpload, media: MediaStore) -> DropCatalog:
    """Store the SKU's picture at every width and return the drop with the SKU pointing at it."""
    sku = next((s for s in catalog.skus if s.sku == sku_code), None)
    if sku is None:
        raise NotFound(f"{catalog.drop.slug} has no SKU {sku_code}.", code="sku_not_found")
    wanted = {str(width): (width, width * 3 // 4) for width in PRODUCT_IMAGE_WIDTHS}
    if set(upload.pictures) != set(wanted):
        raise Unprocessable(
            f"Send the picture at each width: {', '.join(wanted)} pixels.",
            code="picture_widths",
            details=sorted(wanted),
        )
    files = {}
    for width, encoded in upload.pictures.items():
        try:
            data = base64.b64decode(encoded, validate=True)
            size = webp_size(data)
        except (binascii.Error, ValueError) as error:
            raise Unprocessable(
                f"The {width} px picture is not a WebP image: {error}.", code="picture_format"
            ) from None
        if size != wanted[width] or len(data) > MAX_PICTURE_BYTES:
            raise Unprocessable(
                f"The {width} px picture must be {wanted[width][0]}×{wanted[width][1]} and at most "
                f"{MAX_PICTURE_BYTES // 1000} KB.",
                code="picture_size",
            )
        files[width] = data
    digest = hashlib.sha256(b"".join(files[w] for w in sorted(files))).hexdigest()[:12]
    name = f"products/{catalog.drop.slug}/{sku.sku.lower()}-{digest}"
    for width, data in files.items():
        media.put(f"{name}-{width}.webp", data, "image/webp")
    skus = tuple(replace(s, image=name) if s.sku == sku.sku else s for s in catalog.skus)
    return replace(catalog, skus=skus)
