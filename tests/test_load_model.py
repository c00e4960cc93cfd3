"""The flash-sale load model keeps the stock core's invariant (it never books more than the drop has)
and shows the hot item: one counter item every booking writes caps throughput whatever the shards."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.load_model import BookingProfile, Scenario, Simulation

PROFILE = BookingProfile(reads=3, transaction_items=11, other_writes=0, shared={"NUMBERS": 16})


@settings(max_examples=15, deadline=None)
@given(
    units=st.integers(1, 80),
    shoppers=st.integers(1, 600),
    shards=st.sampled_from([1, 4, 16]),
    room=st.booleans(),
    seed=st.integers(0, 1_000),
)
def test_never_more_booked_than_there_are_units(units: int, shoppers: int, shards: int, room: bool, seed: int) -> None:
    scenario = Scenario(units=units, shoppers=shoppers, arrival_s=5.0, sale_s=60.0, shards=shards, waiting_room=room)
    run = Simulation(scenario, PROFILE, seed=seed).run()
    assert run["booked"] + run["units_unsold"] == units
    assert run["booked"] <= min(units, shoppers)
    assert sum(run["answers"].values()) >= run["booked"]


def test_one_counter_item_in_every_booking_is_the_ceiling() -> None:
    spread = Simulation(Scenario(units=120, shoppers=4_000, arrival_s=10.0, shards=16), PROFILE).run()
    one = Simulation(
        Scenario(units=120, shoppers=4_000, arrival_s=10.0, shards=16, one_counter_item=True), PROFILE
    ).run()
    assert spread["share_503"] < one["share_503"]
    assert spread["bookings_per_s"] > 3 * one["bookings_per_s"]
