"""The minute sweep's part for sharded stock: units left on near-empty shards are spread again.

Takes pick a shard with stock at random, so a size's shards drain unevenly; near the end one shard
may be empty while another still has pieces, and a take of two finds no single shard with both. The
sweep evens them out (``shards.plan_moves``) for every drop still on sale or to come.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.catalog.reader import Catalog
from chalicelib.stock.ports import ShardStore
from chalicelib.telemetry import logger


def rebalance_drops(catalog: Catalog, store: ShardStore, now: datetime) -> int:
    """Rebalance the shards of every drop that has not ended; the units moved."""
    moved = 0
    for drop in catalog.all_drops():
        if now < drop.ends_at:
            moved += store.rebalance(drop.slug, drop.generation, drop.stock_shards)
    if moved:
        logger.info("stock shards rebalanced", extra={"units": moved})
    return moved
