"""Compile the code of the dataclasses the shopper's function defines as it starts, for
``chalicelib.core.dataclass_code``: ``python -m devtools.dataclass_code PATH``.

A dataclass compiles its methods when its module is first imported, so this runs in a fresh
interpreter and does what a cold start does before its first request reaches DynamoDB: import the
app (the landing page's path; the routes' other modules load on first use) and build the client
(botocore's). The studio's classes, and the other routes', are left out: each would be read at every
cold start and used by few, and they compile as before.
"""

from __future__ import annotations

import sys
from pathlib import Path

from chalicelib.core import dataclass_code


def compile_shoppers(path: Path) -> int:
    """Write the code to ``path``; how many classes' worth."""
    with dataclass_code.recording() as codes:
        import boto3  # the app imports it on its first request

        import app  # noqa: F401

        boto3.session.Session().client("dynamodb", region_name="eu-west-1")  # no request is made
    dataclass_code.write(codes, path)
    return len(codes)


if __name__ == "__main__":
    print(f"{compile_shoppers(Path(sys.argv[1]))} dataclasses' methods compiled", file=sys.stderr)
