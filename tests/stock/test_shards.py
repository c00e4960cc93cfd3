"""The pure rules of sharded stock: which shards a take tries, a till sale's fixed order, the even
split, the rebalance plan and the suggested count."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.stock.ports import StockLine
from chalicelib.stock.shards import (
    PLACES_PER_SLOT_SHARD,
    TAKES_PER_SHARD_SECOND,
    Move,
    allocate,
    even_shares,
    plan_moves,
    sale_order,
    slot_shards,
    split_take,
    spread_lines,
    suggested_shards,
    take_order,
)

shard_stock = st.dictionaries(st.integers(0, 15), st.integers(-2, 40), max_size=16)


@given(shard_stock, st.integers(1, 5), st.integers())
def test_a_take_tries_every_shard_with_the_units_once_and_no_other(
    available: dict[int, int], qty: int, seed: int
) -> None:
    order = take_order(available, qty, random.Random(seed))
    assert sorted(order) == sorted(shard for shard, units in available.items() if units >= qty)


def test_takes_spread_over_the_shards() -> None:
    rng = random.Random(7)
    firsts = [take_order({shard: 10 for shard in range(8)}, 1, rng)[0] for _ in range(800)]
    assert all(60 <= firsts.count(shard) <= 140 for shard in range(8))  # about 100 each


@given(st.text(min_size=1, max_size=20), st.integers(1, 64))
def test_a_sale_walks_every_shard_in_an_order_its_id_fixes(sale_id: str, shards: int) -> None:
    order = sale_order(sale_id, shards)
    assert sorted(order) == list(range(shards))
    assert sale_order(sale_id, shards) == order


@given(st.integers(0, 10_000), st.integers(1, 64))
def test_even_shares_add_up_and_differ_by_one_at_most(total: int, shards: int) -> None:
    shares = even_shares(total, shards)
    assert sum(shares) == total and len(shares) == shards
    assert max(shares) - min(shares) <= 1


def _apply(available: dict[int, int], moves: list[Move]) -> dict[int, int]:
    after = {shard: max(units, 0) for shard, units in available.items()}
    for move in moves:
        assert move.units > 0 and move.source != move.target
        after[move.source] -= move.units
        assert after[move.source] >= 0, "a move takes only units the shard has"
        after[move.target] = after.get(move.target, 0) + move.units
    return after


@given(shard_stock, st.integers(1, 16))
def test_a_rebalance_keeps_every_unit_and_leaves_the_shards_even(available: dict[int, int], shards: int) -> None:
    moves = plan_moves(available, shards)
    after = _apply(available, moves)
    assert sum(after.values()) == sum(max(units, 0) for units in available.values())
    if moves:
        assert {shard: after.get(shard, 0) for shard in range(shards)} == dict(
            enumerate(even_shares(sum(after.values()), shards))
        )
        assert not any(units for shard, units in after.items() if shard >= shards)
    assert plan_moves(after, shards) == [], "once even, it stays put"


def test_a_near_empty_shard_is_refilled_and_an_even_one_left_alone() -> None:
    assert plan_moves({0: 5, 1: 5, 2: 4, 3: 3}, 4) == []
    moved = _apply({0: 9, 1: 9, 2: 0, 3: 2}, plan_moves({0: 9, 1: 9, 2: 0, 3: 2}, 4))
    assert moved == {0: 5, 1: 5, 2: 5, 3: 5}


def test_raising_the_count_spreads_one_item_and_lowering_it_gathers_them() -> None:
    assert _apply({0: 80}, plan_moves({0: 80}, 8)) == {shard: 10 for shard in range(8)}
    assert _apply({0: 3, 1: 2, 2: 2}, plan_moves({0: 3, 1: 2, 2: 2}, 1)) == {0: 7, 1: 0, 2: 0}


@given(st.integers(10, 100_000), st.integers(1, 200))
def test_the_suggested_count_keeps_each_shard_under_its_rate(per_minute: int, sizes: int) -> None:
    shards = suggested_shards(per_minute, sizes)
    assert 1 <= shards <= 64
    per_shard = per_minute / 60 / sizes / shards
    assert per_shard <= TAKES_PER_SHARD_SECOND or shards == 64
    if shards > 1:
        assert per_minute / 60 / sizes / (shards - 1) > TAKES_PER_SHARD_SECOND, "not more than needed"


@given(st.integers(1, 5_000), st.integers(1, 64))
def test_a_slot_splits_like_its_stock_but_never_below_ten_places_an_item(capacity: int, shards: int) -> None:
    split = slot_shards(capacity, shards)
    assert 1 <= split <= shards
    assert split == 1 or min(even_shares(capacity, split)) >= PLACES_PER_SLOT_SHARD
    if split < shards:
        assert even_shares(capacity, split + 1)[-1] < PLACES_PER_SLOT_SHARD, "as many as its places allow"


@given(st.lists(st.integers(0, 500), max_size=6), st.integers(1, 16))
def test_an_import_spreads_each_line_evenly_and_keeps_its_units(units: list[int], shards: int) -> None:
    lines = [StockLine("TEE", f"S{n}", "paris", on_hand) for n, on_hand in enumerate(units)]
    spread = list(spread_lines(lines, shards))
    for line in lines:
        mine = {part.shard: part.on_hand for part in spread if part.size == line.size}
        assert sum(mine.values()) == line.on_hand and 0 in mine
        assert [mine.get(shard, 0) for shard in range(shards)] == even_shares(line.on_hand, shards)


@given(shard_stock, st.integers(1, 12), st.integers())
def test_a_till_sale_takes_from_one_shard_if_it_can_else_spreads_and_never_overdraws(
    available: dict[int, int], qty: int, seed: int
) -> None:
    order = sorted(available)
    random.Random(seed).shuffle(order)
    parts = split_take(available, qty, order)
    if parts is None:
        assert sum(max(units, 0) for units in available.values()) < qty
        return
    assert sum(units for _, units in parts) == qty
    assert all(0 < units <= available[shard] for shard, units in parts)
    assert len({shard for shard, _ in parts}) == len(parts)
    if any(units >= qty for units in available.values()):
        assert len(parts) == 1


@given(st.lists(st.integers(1, 5), min_size=1, max_size=5), st.data())
def test_returns_of_a_split_sale_go_back_part_by_part(units: list[int], data: st.DataObject) -> None:
    parts = list(enumerate(units))
    given_back: dict[int, int] = {}
    done = 0
    while done < sum(units):
        qty = data.draw(st.integers(1, sum(units) - done))
        for shard, back in allocate(parts, done, qty):
            given_back[shard] = given_back.get(shard, 0) + back
        done += qty
        assert all(given_back.get(shard, 0) <= sold for shard, sold in parts), "no part gets back more than it gave"
    assert given_back == dict(parts)
