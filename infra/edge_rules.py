"""What CloudFront caches of the shop, and by what. The stack builds its cache policy from these and the
local edge (``devtools/local_edge.py``) caches by them, so the two cannot drift. Pure Python: the
local edge imports it without the CDK."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

from chalicelib.edge.segment import MINTED_HEADER, SEGMENT_HEADER

EDGE_FUNCTION = Path(__file__).with_name("edge") / "storefront.js"
"""The CloudFront Function on the shop's viewer requests and responses (cloudfront-js-2.0)."""
ESBUILD = Path(__file__).resolve().parent.parent / "studio-editor" / "node_modules" / ".bin" / "esbuild"
FUNCTION_QUOTA_BYTES = 10_240  # CloudFront Functions' largest function


@cache
def function_code() -> str:
    """The function as deployed (and as the local edge runs it): comments and whitespace taken out by
    esbuild, names kept (CloudFront calls ``handler``), within CloudFront's 10 KB quota."""
    code = subprocess.run(  # noqa: S603 - the project's esbuild on the project's file
        [
            str(ESBUILD),
            str(EDGE_FUNCTION),
            "--minify-whitespace",
            "--minify-syntax",
            "--format=esm",
            "--log-level=error",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if len(code.encode()) > FUNCTION_QUOTA_BYTES:
        raise RuntimeError(f"the edge function is {len(code.encode())} bytes, over CloudFront's {FUNCTION_QUOTA_BYTES}")
    return code


VIEWER_IP_HEADER = "x-dropfront-viewer-ip"  # set by the edge function from the connection, never by the client
ORIGIN_HEADERS = (VIEWER_IP_HEADER, MINTED_HEADER)
"""What the function adds that the origin reads but the cache key leaves out."""


@dataclass(frozen=True)
class Behaviour:
    """A CloudFront cache behaviour whose GETs may be kept: its path pattern and its cache key. The
    origin says which answers may be kept (``Cache-Control: public, s-maxage`` or ``max-age``);
    everything else under the pattern (holds, forms) says no-store and passes through."""

    path: str
    headers: tuple[str, ...]
    query: tuple[str, ...]

    @property
    def name(self) -> str:
        """The path in words (``/api/drops/*/stock``: ``ApiDropsStock``), for construct ids."""
        return "".join(part.title() for part in self.path.replace("*", " ").replace("/", " ").split())

    def matches(self, uri: str) -> bool:
        return fnmatchcase(uri, self.path)


PAGES = Behaviour(
    "/drops/*",
    # Accept-Language as the function cut it down; the market's country; the viewer's zone (the page
    # writes times in it); the segment key.
    ("accept-language", "cloudfront-viewer-country", "cloudfront-viewer-time-zone", SEGMENT_HEADER),
    # What a landing page reads of its query (the function drops the rest) but the campaign link's
    # grant, which the function folds into the segment key (or leaves the page to the origin).
    ("lang", "m", "hold"),
)
LIVE_STOCK = Behaviour("/api/drops/*/stock", (), ())  # what an open page polls: the same for everyone
CACHED = (PAGES, LIVE_STOCK)

MAX_TTL_SECONDS = 1
"""Nothing is kept longer, whatever the origin says: the stock a page shows may be a second old at most."""
