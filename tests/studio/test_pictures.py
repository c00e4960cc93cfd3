"""A SKU's picture from the studio: WebP at each width, checked, stored in the media bucket (moto's
S3) under a content-named key, and shown on the shopper's page; anything else is refused, clearly."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from PIL import Image
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.store.media import LocalMedia
from chalicelib.studio.auth import Role
from chalicelib.studio.pictures import webp_size
from devtools.process import forget_process_state
from tests.studio.conftest import AUTH, HTML, as_role

BUCKET = "dropfront-media-test"


def webp(width: int, height: int, **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 60)).save(out, "WEBP", **options)
    return out.getvalue()


def upload(studio: TestClient, pictures: dict[str, bytes], revision: int = 0, sku: str = "OVR-SAND") -> Any:
    body = {"revision": revision, "pictures": {w: base64.b64encode(data).decode() for w, data in pictures.items()}}
    return studio.post(
        f"/studio/api/drops/linen-lab/skus/{sku}/picture",
        headers={**AUTH, "Content-Type": "application/json"},
        content=json.dumps(body),
    )


@pytest.fixture
def bucket(studio: TestClient, monkeypatch: pytest.MonkeyPatch) -> str:
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    monkeypatch.setenv("DROPFRONT_MEDIA_BUCKET", BUCKET)
    forget_process_state()
    return BUCKET


@pytest.mark.parametrize("options", [{"quality": 80}, {"lossless": True}, {"quality": 80, "exif": b"Exif\x00\x00"}])
def test_a_webp_header_says_its_size_lossy_lossless_or_extended(options: dict[str, Any]) -> None:
    assert webp_size(webp(720, 540, **options)) == (720, 540)


def test_a_picture_is_stored_at_each_width_and_shown_to_shoppers(studio: TestClient, bucket: str) -> None:
    revision = wiring.catalog_store().drop_catalog("linen-lab").drop.revision  # type: ignore[union-attr]
    answer = upload(studio, {"360": webp(360, 270), "720": webp(720, 540)}, revision)
    assert answer.status_code == 200, answer.text
    image = answer.json()["image"]
    assert image.startswith("products/linen-lab/ovr-sand-") and answer.json()["revision"] == revision + 1
    s3 = boto3.client("s3", region_name="eu-west-1")
    for width in (360, 720):
        stored = s3.get_object(Bucket=bucket, Key=f"{image}-{width}.webp")
        assert stored["ContentType"] == "image/webp" and "immutable" in stored["CacheControl"]
    saved = wiring.catalog_store().drop_catalog("linen-lab")
    assert saved is not None and next(s.image for s in saved.skus if s.sku == "OVR-SAND") == image
    assert "OVR-SAND: new picture" in studio.get("/studio/drops/linen-lab", headers={**AUTH, **HTML}).text


@pytest.mark.parametrize(
    ("pictures", "code"),
    [
        ({"360": webp(360, 270)}, "picture_widths"),
        ({"360": webp(360, 270), "720": webp(700, 540)}, "picture_size"),
        ({"360": webp(360, 270), "720": b"\x89PNG\r\n\x1a\n" + b"0" * 40}, "picture_format"),
    ],
)
def test_a_picture_that_is_not_what_it_says_is_refused(
    studio: TestClient, bucket: str, pictures: dict[str, bytes], code: str
) -> None:
    answer = upload(studio, pictures)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == code


def test_a_stale_revision_or_a_viewer_cannot_set_a_picture(studio: TestClient, bucket: str) -> None:
    pictures = {"360": webp(360, 270), "720": webp(720, 540)}
    assert upload(studio, pictures, revision=99).status_code == 409
    viewer = studio.post(
        "/studio/api/drops/linen-lab/skus/OVR-SAND/picture",
        headers={**as_role(Role.STAFF), "Content-Type": "application/json"},
        content=json.dumps({"revision": 0, "pictures": {}}),
    )
    assert viewer.status_code == 403


def test_the_drop_page_offers_a_picture_per_sku(studio: TestClient) -> None:
    page = studio.get("/studio/drops/linen-lab", headers={**AUTH, **HTML}).text
    assert 'id="pictures"' in page and page.count('type="file" accept="image/*"') == 12
    assert "https://shop.example.com/media/demo/products/ovr-sand-720.webp" in page


def test_locally_pictures_go_into_the_media_folder_and_never_outside_it(tmp_path: Path) -> None:
    media = LocalMedia(tmp_path)
    media.put("products/x/a-360.webp", b"RIFF", "image/webp")
    assert (tmp_path / "products/x/a-360.webp").read_bytes() == b"RIFF"
    with pytest.raises(ValueError):
        media.put("../escape.webp", b"RIFF", "image/webp")
