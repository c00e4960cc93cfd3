"""What every benchmark runs against: the embedded DynamoDB with the demo drops and a 20-product drop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from devtools.dynalite import dynalite
from devtools.embedded_dynamodb import use_fake_credentials
from devtools.process import forget_process_state
from devtools.seed import DemoDrop, demo_drops, ensure_table, seed

BENCH_SLUG = "bench-20"
PRODUCTS = 20
TABLE = "dropfront-bench"


def twenty_product_drop(now: datetime) -> DemoDrop:
    """The demo drop's SKUs repeated to 20, as its own drop (docs/design.md measures a 20-card page)."""
    demo = demo_drops(now)[0]
    skus, stock = [], []
    for index in range(PRODUCTS):
        original = demo.catalog.skus[index % len(demo.catalog.skus)]
        code = f"{original.sku[:24]}-{index:02d}"
        skus.append(replace(original, sku=code))
        stock += [
            row.__class__(code, row.size, row.location, row.on_hand) for row in demo.stock if row.sku == original.sku
        ]
    drop = replace(demo.catalog.drop, slug=BENCH_SLUG)
    catalog = replace(demo.catalog, drop=drop, skus=tuple(skus))
    return DemoDrop(catalog, tuple(stock), demo.pricing)


@contextmanager
def dynamodb_process() -> Iterator[str]:
    """The embedded DynamoDB in its own process, so its work never competes with timed code for the GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "devtools.embedded_dynamodb", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "embedded DynamoDB on …" once it listens
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def seeded_dynamodb() -> Iterator[str]:
    """Environment pointed at a fresh embedded DynamoDB holding the demo drops and the 20-product drop."""
    use_fake_credentials()
    with dynamodb_process() as endpoint:
        os.environ["DROPFRONT_DYNAMODB_ENDPOINT"] = endpoint
        os.environ.setdefault("DROPFRONT_SECRET_KEYS", "bench-key")
        os.environ["DROPFRONT_TABLE"] = TABLE
        os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
        from chalicelib.store.client import dynamodb

        forget_process_state()
        now = datetime.now(UTC)
        fresh = ensure_table(dynamodb(), TABLE)
        seed(TABLE, now, [*demo_drops(now), twenty_product_drop(now)], fresh=fresh)
        yield endpoint


@contextmanager
def dynalite_copy(source: str, table: str = TABLE) -> Iterator[str]:
    """dynalite holding a copy of the seeded table at ``source``: a second engine, which answers a
    Query several times faster than moto. It has no transactions, so the table is copied item by
    item rather than seeded through the app's adapters."""
    import boto3

    with dynalite() as endpoint:
        origin, copy = (boto3.session.Session().client("dynamodb", endpoint_url=url) for url in (source, endpoint))
        ensure_table(copy, table)
        for page in origin.get_paginator("scan").paginate(TableName=table):
            items = page["Items"]
            for start in range(0, len(items), 25):
                request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
                while request:
                    request = copy.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        yield endpoint
