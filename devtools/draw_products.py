"""Draw the demo's product pictures: each SKU's garment in its colour on the studio's linen, as WebP
at the widths the landing page's ``srcset`` offers. Run it after adding a demo SKU:
``python -m devtools.draw_products`` writes ``media/demo/products/<sku>-<width>.webp``."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

from chalicelib.core.models import PRODUCT_IMAGE_WIDTHS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "media" / "demo" / "products"
DEMO = ROOT / "devtools" / "demo_drop.json"
W, H = 1200, 900  # drawn large, then scaled down (smooth edges)

Shape = list[tuple[float, float]]

SHAPES: dict[str, list[Shape]] = {
    # shirt-like: body with sleeves, collar opening
    "OVR": [
        [
            (0.30, 0.18),
            (0.44, 0.14),
            (0.56, 0.14),
            (0.70, 0.18),
            (0.86, 0.40),
            (0.78, 0.46),
            (0.70, 0.36),
            (0.70, 0.86),
            (0.30, 0.86),
            (0.30, 0.36),
            (0.22, 0.46),
            (0.14, 0.40),
        ]
    ],
    "TEE": [
        [
            (0.32, 0.20),
            (0.44, 0.16),
            (0.56, 0.16),
            (0.68, 0.20),
            (0.82, 0.32),
            (0.74, 0.42),
            (0.68, 0.36),
            (0.68, 0.84),
            (0.32, 0.84),
            (0.32, 0.36),
            (0.26, 0.42),
            (0.18, 0.32),
        ]
    ],
    "CRW": [
        [
            (0.30, 0.20),
            (0.44, 0.16),
            (0.56, 0.16),
            (0.70, 0.20),
            (0.84, 0.70),
            (0.77, 0.73),
            (0.69, 0.40),
            (0.69, 0.84),
            (0.31, 0.84),
            (0.31, 0.40),
            (0.23, 0.73),
            (0.16, 0.70),
        ]
    ],
    "JKT": [
        [
            (0.29, 0.17),
            (0.43, 0.13),
            (0.57, 0.13),
            (0.71, 0.17),
            (0.85, 0.72),
            (0.77, 0.75),
            (0.70, 0.40),
            (0.72, 0.88),
            (0.28, 0.88),
            (0.30, 0.40),
            (0.23, 0.75),
            (0.15, 0.72),
        ]
    ],
    "VST": [
        [
            (0.36, 0.16),
            (0.45, 0.16),
            (0.50, 0.40),
            (0.55, 0.16),
            (0.64, 0.16),
            (0.70, 0.30),
            (0.70, 0.86),
            (0.30, 0.86),
            (0.30, 0.30),
        ]
    ],
    "TRS": [[(0.34, 0.12), (0.66, 0.12), (0.70, 0.90), (0.54, 0.90), (0.50, 0.36), (0.46, 0.90), (0.30, 0.90)]],
    "BNE": [
        [(0.30, 0.66), (0.30, 0.46), (0.36, 0.30), (0.50, 0.24), (0.64, 0.30), (0.70, 0.46), (0.70, 0.66)],
        [(0.28, 0.62), (0.72, 0.62), (0.72, 0.74), (0.28, 0.74)],
    ],
    "TOTE": [[(0.28, 0.36), (0.72, 0.36), (0.76, 0.88), (0.24, 0.88)]],
}


def _shade(hex_colour: str, factor: float) -> tuple[int, int, int]:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(max(0, min(255, round(c * factor))) for c in (r, g, b))  # type: ignore[return-value]


def draw(sku: str, swatch: str) -> Image.Image:
    kind = next(prefix for prefix in SHAPES if sku.startswith(prefix))
    image = Image.new("RGB", (W, H), (239, 235, 228))
    pen = ImageDraw.Draw(image)
    pen.ellipse((W * 0.2, H * 0.86, W * 0.8, H * 0.96), fill=(226, 221, 212))  # its shadow on the table
    for shape in SHAPES[kind]:
        points = [(x * W, y * H) for x, y in shape]
        pen.polygon(points, fill=_shade(swatch, 1.0), outline=_shade(swatch, 0.72), width=6)
    if kind == "TOTE":  # the handles
        pen.arc((W * 0.36, H * 0.14, W * 0.64, H * 0.58), 180, 360, fill=_shade(swatch, 0.8), width=18)
    if kind in ("OVR", "JKT"):  # the placket and its buttons
        pen.line((W * 0.5, H * 0.16, W * 0.5, H * 0.86), fill=_shade(swatch, 0.78), width=5)
        for y in (0.30, 0.44, 0.58, 0.72):
            pen.ellipse((W * 0.5 - 9, H * y - 9, W * 0.5 + 9, H * y + 9), fill=_shade(swatch, 0.6))
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    for drop in data["drops"]:
        for sku in drop["skus"]:
            picture = draw(sku["sku"], sku["swatch"])
            for width in PRODUCT_IMAGE_WIDTHS:
                scaled = picture.resize((width, width * H // W), Image.Resampling.LANCZOS)
                scaled.save(OUT / f"{sku['sku'].lower()}-{width}.webp", "WEBP", quality=80, method=6)
    print(f"wrote {len(list(OUT.glob('*.webp')))} pictures to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
