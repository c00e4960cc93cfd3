"""`make tags`: print a pop-up's QR tags. Writes A4 label sheets (sheet-1.svg, …) and one PNG per tag.

Reads the catalog from the table the environment points at (``DROPFRONT_DYNAMODB_ENDPOINT`` for the
`make run` database, else AWS). The tags encode ``--base-url`` (the shopper site's public address).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chalicelib import wiring
from chalicelib.tryon.sheets import PER_PAGE, pages, popup_tags, sheet_svg, tag_png
from devtools import progress


def write_tags(slug: str, popup: str, base_url: str, out: Path) -> int:
    """Write the sheets and PNGs; the number of tags."""
    tags = popup_tags([wiring.catalog().drop(slug)], popup, base_url.rstrip("/"), slug)
    if not tags:
        raise SystemExit(f"{slug} has no stock at a pop-up called {popup!r}")
    out.mkdir(parents=True, exist_ok=True)
    for page in range(1, pages(tags) + 1):
        (out / f"sheet-{page}.svg").write_text(sheet_svg(tags, page), encoding="utf-8")
    for done, tag in enumerate(tags, start=1):
        (out / tag.filename).write_bytes(tag_png(tag))
        progress.draw(done, len(tags), "tags")
    print(file=sys.stderr)
    return len(tags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drop", required=True, help="the drop's slug, e.g. linen-lab")
    parser.add_argument("--popup", required=True, help="the pop-up's id, e.g. paris-marais")
    parser.add_argument("--base-url", required=True, help="the shopper site, e.g. https://shop.example.com")
    parser.add_argument("--out", type=Path, default=Path("build/tags"))
    args = parser.parse_args()
    count = write_tags(args.drop, args.popup, args.base_url, args.out)
    sheets = -(-count // PER_PAGE)
    print(f"{count} tags on {sheets} A4 sheet(s) of {PER_PAGE} labels, and {count} PNGs, in {args.out}/")


if __name__ == "__main__":
    main()
