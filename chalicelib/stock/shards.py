"""Hot stock split over shard items: which shard a take tries first, and how units are evened out.

A pop-up's units of one SKU and size may be spread over N stock items (shards): every booking of a
size writes its stock item, and one item takes about 1,000 write units a second, so at a launch the
item, not Lambda, is the ceiling (bench/load_model.py). Shard 0 keeps the unsharded item's key, so a
drop with one shard is stored exactly as before. A take (hold, try-on, booking, till sale) writes
one shard; what a shopper sees sums them. Pure: the adapters read the shards and write the moves.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from chalicelib.stock.ports import StockLine

TAKES_PER_SHARD_SECOND = 30
"""Purchases one stock item sustains a second: a transaction keeps its items about 15 ms (the load
model's assumption, docs/design.md), so about 66 commit a second on one item, and a purchase is two
of them (the hold, then the booking)."""


def suggested_shards(shoppers_per_minute: int, sizes: int) -> int:
    """Shards per size for a launch letting in ``shoppers_per_minute`` (the waiting room's rate),
    spread over ``sizes`` sizes and places, each shopper buying once: enough that no shard is asked
    for more than ``TAKES_PER_SHARD_SECOND``, at most 64."""
    per_size = shoppers_per_minute / 60 / max(sizes, 1)
    return min(64, max(1, math.ceil(per_size / TAKES_PER_SHARD_SECOND)))


PLACES_PER_SLOT_SHARD = 10
"""A pickup slot is split only into shards of at least this many places, so a slot's last places
are not scattered one per item."""


def slot_shards(capacity: int, shards: int) -> int:
    """How many items a pickup slot of ``capacity`` places is spread over for a drop whose stock
    has ``shards``: as many, as long as each gets ``PLACES_PER_SLOT_SHARD`` places."""
    return max(1, min(shards, capacity // PLACES_PER_SLOT_SHARD))


def take_order(available: Mapping[int, int], qty: int, rng: random.Random) -> list[int]:
    """The shards to try for a take of ``qty`` units, in order: those that had the units when read,
    in random order (so concurrent buyers spread over them); the next is tried if a race emptied
    the first. Empty when no single shard has them (the rebalance sweep gathers stragglers)."""
    order = sorted(shard for shard, units in available.items() if units >= qty)
    rng.shuffle(order)
    return order


def split_take(available: Mapping[int, int], qty: int, order: Sequence[int]) -> list[tuple[int, int]] | None:
    """Where a take of ``qty`` units comes from, as (shard, units): the first shard in ``order``
    that has them all, else the shards in ``order`` each giving what it has; None when together
    they have too few. (A till sale: the piece is in the staff's hand, so it is never refused for
    being spread.)"""
    whole = next((shard for shard in order if available.get(shard, 0) >= qty), None)
    if whole is not None:
        return [(whole, qty)]
    parts, left = [], qty
    for shard in order:
        units = min(max(available.get(shard, 0), 0), left)
        if units:
            parts.append((shard, units))
            left -= units
    return parts if left == 0 else None


def allocate(parts: Sequence[tuple[int, int]], done: int, qty: int) -> list[tuple[int, int]]:
    """The shards ``qty`` more units of a split take go back to, as (shard, units), after ``done``
    went back already: the parts in order, the first ``done`` units skipped (so each part gets back
    at most what it gave)."""
    back, skip, left = [], done, qty
    for shard, units in parts:
        usable = max(units - skip, 0)
        skip = max(skip - units, 0)
        given = min(usable, left)
        if given:
            back.append((shard, given))
            left -= given
    return back


def sale_order(sale_id: str, shards: int) -> list[int]:
    """The shards a till sale tries, in an order fixed by its id: a resent sale walks the same path
    (its marker, not the order, is what applies it once; the order only keeps retries cheap)."""
    seed = int.from_bytes(hashlib.sha256(sale_id.encode()).digest()[:8], "big")
    order = list(range(shards))
    random.Random(seed).shuffle(order)  # noqa: S311 - a spread, not a secret
    return order


def even_shares(total: int, shards: int) -> list[int]:
    """``total`` units over ``shards`` shards as evenly as can be, the first shards one more."""
    base, extra = divmod(total, shards)
    return [base + (1 if shard < extra else 0) for shard in range(shards)]


def spread_lines(lines: Iterable[StockLine], shards: int) -> Iterator[StockLine]:
    """Each line's units over ``shards`` items, evenly (an import into a sharded drop writes them so,
    rather than leaving the rebalance to spread them): shard 0 always, the others when they get any."""
    for line in lines:
        for shard, units in enumerate(even_shares(line.on_hand, shards)):
            if shard == 0 or units:
                yield replace(line, on_hand=units, shard=shard)


@dataclass(frozen=True, slots=True)
class Move:
    """Units to move, available ones only, from one shard to another (created if missing)."""

    source: int
    target: int
    units: int


def plan_moves(available: Mapping[int, int], shards: int) -> list[Move]:
    """The moves that even out a size's available units over ``shards`` shards, or none when it is
    even enough: no shard at or past ``shards`` holds any (the count was lowered), and the shards
    differ by one unit at most or each holds at least half its even share. Moving takes only
    available units, so held and sold ones stay on the shard that holds or sold them."""
    total = sum(max(units, 0) for units in available.values())
    shares = even_shares(total, shards)
    have = {shard: max(units, 0) for shard, units in available.items()}
    counted = [have.get(shard, 0) for shard in range(shards)]
    stray = any(units for shard, units in have.items() if shard >= shards)
    half_full = all(units >= -(-share // 2) for units, share in zip(counted, shares, strict=True))
    level = max(counted) - min(counted) <= 1 or half_full
    if level and not stray:
        return []
    want = {shard: shares[shard] if shard < shards else 0 for shard in set(have) | set(range(shards))}
    givers = sorted((shard for shard in want if have.get(shard, 0) > want[shard]), key=lambda s: -have.get(s, 0))
    takers = sorted(shard for shard in want if have.get(shard, 0) < want[shard])
    moves: list[Move] = []
    for taker in takers:
        needed = want[taker] - have.get(taker, 0)
        for giver in givers:
            spare = have[giver] - want[giver]
            if needed == 0 or spare <= 0:
                continue
            units = min(spare, needed)
            moves.append(Move(giver, taker, units))
            have[giver] -= units
            have[taker] = have.get(taker, 0) + units
            needed -= units
    return moves
