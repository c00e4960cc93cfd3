"""A one-line progress bar on stderr for the command-line tools."""

from __future__ import annotations

import sys

WIDTH = 30


def draw(done: int, total: int, what: str) -> None:
    """Redraw the bar in place; the caller prints a newline when the work is over."""
    total = max(total, 1)
    filled = WIDTH * min(done, total) // total
    print(f"\r  [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total} {what}", end="", file=sys.stderr, flush=True)
