"""Compile the code of the dataclasses the shopper's function defines as it starts, for
``chalicelib.core.dataclass_code``: ``python -m devtools.dataclass_code PATH``.

A dataclass compiles its methods when its module is first imported, so this runs in a fresh
interpreter and does what a cold start does before its first request reaches DynamoDB: import the
app (the landing page's path; the routes' other modules load on first use) and build its
DynamoDB client (``store.client.dynamodb``). The studio's classes, and the other routes', are left
out: each would be read at every cold start and used by few, and they compile as before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from chalicelib.core import dataclass_code


def compile_shoppers(path: Path) -> int:
    """Write the code to ``path``; how many classes' worth."""
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", "build-only")  # the client reads the settings; nothing is signed
    with dataclass_code.recording() as codes:
        import app  # noqa: F401
        from chalicelib.store.client import dynamodb

        dynamodb()  # the app's own client, as its first request builds it; no request is made
    dataclass_code.write(codes, path)
    return len(codes)


if __name__ == "__main__":
    print(f"{compile_shoppers(Path(sys.argv[1]))} dataclasses' methods compiled", file=sys.stderr)
