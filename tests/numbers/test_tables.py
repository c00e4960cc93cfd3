"""The studio's numbers as tables: pure arithmetic in minor units and basis points."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.numbers.scope import Scope, scoped_counts, scoped_days, scoped_made
from chalicelib.numbers.tables import cell_conversion, discount_depth, footfall, headline, qr_funnel, sell_through
from chalicelib.pricing.counters import (
    FULL_PRICE,
    PlaceDay,
    SoldLine,
    booking_counts,
    exposure_counts,
    till_sale_counts,
)

DAY = date(2026, 12, 1)
PARIS_DAY = PlaceDay("paris", DAY)


def test_sell_through_accumulates_per_place_in_day_order() -> None:
    days = {
        ("TEE", "web", "2030-01-02"): {"booked": 3},
        ("TEE", "web", "2030-01-01"): {"booked": 1, "till_sold": 1, "cancelled": 9},
        ("TEE", "paris", "2030-01-01"): {"till_sold": 5},
    }
    table = sell_through(days, {("TEE", "web"): 10, ("TEE", "paris"): 5})
    assert table.rows == (
        ("TEE@paris", "2030-01-01", 5, 5, 10_000),
        ("TEE@web", "2030-01-01", 2, 10, 2_000),
        ("TEE@web", "2030-01-02", 3, 10, 5_000),
    )


def test_the_funnel_sums_skus_and_days_per_pop_up_in_step_order() -> None:
    funnel = {
        ("A", "paris", "2030-01-01"): {"scans": 10, "tryon_requests": 4},
        ("B", "paris", "2030-01-02"): {"scans": 5, "tryons_completed": 2},
    }
    rows = qr_funnel(funnel).rows
    assert rows[:3] == (("paris", "QR scans", 15), ("paris", "try-ons asked for", 4), ("paris", "try-ons done", 2))
    assert len(rows) == 5


def test_a_booking_counts_its_cohorts_and_cells() -> None:
    lines = [
        SoldLine("segment:gold", 2, 10_000, 18_000, 4_000),
        SoldLine(FULL_PRICE, 1, 10_000, 10_000, 4_000),
    ]
    counts = booking_counts(lines, "EUR", ["launch:b"], PARIS_DAY)
    assert counts["paid@segment:gold@EUR"] == 18_000 and counts["list@segment:gold@EUR"] == 20_000
    assert counts["cost@full-price@EUR"] == 4_000 and counts["booked@launch:b"] == 1
    depth = {row[0]: row for row in discount_depth(counts).rows}
    assert depth["segment:gold"] == ("segment:gold", "EUR", 2, 1_000, 8_333)  # gave 10 %, kept 10/12 of the margin
    assert depth[FULL_PRICE][3:] == (0, 10_000)


def test_conversion_per_cell_states_its_sample() -> None:
    counts = {**exposure_counts(["x:a"]), "seen@x:b": 40, "booked@x:b": 3, "sold@x:b": 1}
    assert cell_conversion(counts).rows == (("x:a", 1, 0, 0, 0), ("x:b", 40, 3, 1, 1_000))  # till sales convert too


@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(1, 50_000), st.integers(0, 100), st.integers(0, 100)), max_size=8)
)
def test_depth_and_recovery_stay_in_bounds_for_prices_within_list_and_above_cost(
    raw: list[tuple[int, int, int, int]],
) -> None:
    """Discounts between 0 and 100 % and a price never under cost keep both ratios in 0–100 %."""
    lines = []
    for qty, list_minor, cost_pct, discount_pct in raw:
        cost = list_minor * cost_pct // 100
        unit = max(cost, list_minor - list_minor * discount_pct // 100)
        lines.append(SoldLine("c", qty, list_minor, unit * qty, cost))
    for row in discount_depth(booking_counts(lines, "EUR", [], PARIS_DAY)).rows:
        assert 0 <= int(row[3]) <= 10_000 and 0 <= int(row[4]) <= 10_000


def test_the_headline_reads_the_same_counters_as_the_tables() -> None:
    counts = booking_counts([SoldLine(FULL_PRICE, 3, 4_000, 12_000, 4_000 // 3)], "EUR", [], PARIS_DAY)
    counts |= till_sale_counts(SoldLine("till", 1, 5_000, 4_000, 2_000), "USD", [], PlaceDay("brooklyn", DAY))
    days = {
        ("TEE", "paris", "2026-12-01"): {"booked": 3, "returned": 1},
        ("TEE", "brooklyn", "2026-12-01"): {"till_sold": 1},
    }
    funnel = {("TEE", "paris", "2026-12-01"): {"scans": 8, "tryon_requests": 2}}
    made = {("TEE", "paris"): 8, ("TEE", "brooklyn"): 8}
    figures = headline(counts, days, made, funnel)
    assert figures.revenue_minor == {"EUR": 12_000, "USD": 4_000}
    assert figures.units == 4 and figures.sell_through_bps == 2_500
    assert figures.discount_bps == (0 * 3 + 2_000 * 1) // 4  # EUR none, USD 20 %, weighted by units
    assert figures.margin_recovered_bps == (10_000 * 3 + 6_666 * 1) // 4
    assert figures.tryon_bps == 2_500 and figures.return_bps == 2_500
    paris = Scope(popup="paris")
    there = headline(scoped_counts(counts, paris), scoped_days(days, paris), scoped_made(made, paris), funnel)
    assert (there.revenue_minor, there.units, there.sell_through_bps, there.return_bps) == (
        {"EUR": 12_000},
        3,
        3_750,
        3_333,
    )


sales = st.lists(
    st.tuples(
        st.sampled_from(["paris", "brooklyn"]),
        st.integers(0, 13),  # days into the fortnight
        st.sampled_from(["EUR", "USD"]),
        st.integers(1, 3),
        st.integers(1_000, 20_000),
    ),
    max_size=30,
)


@given(sales, st.integers(0, 13), st.sampled_from([None, "paris", "brooklyn"]))
def test_the_tiles_of_two_ranges_add_up_to_the_whole(
    raw: list[tuple[str, int, str, int, int]], split: int, popup: str | None
) -> None:
    """Units and revenue of the days up to ``split`` and of those after it add up to all days', at
    one pop-up or everywhere: each sale counts in exactly one day and one place."""
    counts: dict[str, int] = {}
    for where, offset, currency, qty, unit in raw:
        sold = booking_counts(
            [SoldLine(FULL_PRICE, qty, unit, unit * qty, 0)],
            currency,
            [],
            PlaceDay(where, DAY + timedelta(days=offset)),
        )
        for name, value in sold.items():
            counts[name] = counts.get(name, 0) + value
    whole = headline(scoped_counts(counts, Scope(popup)), {}, {}, {})
    middle = DAY + timedelta(days=split)
    parts = [
        headline(scoped_counts(counts, Scope(popup, last=middle)), {}, {}, {}),
        headline(scoped_counts(counts, Scope(popup, first=middle + timedelta(days=1))), {}, {}, {}),
    ]
    assert parts[0].units + parts[1].units == whole.units
    for currency in ("EUR", "USD"):
        assert sum(part.revenue_minor.get(currency, 0) for part in parts) == whole.revenue_minor.get(currency, 0)
    expected = sum(qty for where, _, _, qty, _ in raw if popup in (None, where))
    assert whole.units == expected


def test_counters_of_the_whole_drop_are_kept_whatever_the_scope() -> None:
    counts = {"units@gold@EUR": 2, "seen@x:a": 9, "reason@too_small": 1, "customers@paris": 3, "customers@brooklyn": 1}
    assert scoped_counts(counts, Scope("paris", DAY, DAY)) == {
        "units@gold@EUR": 2,
        "seen@x:a": 9,
        "reason@too_small": 1,
        "customers@paris": 3,
    }


def test_an_empty_drop_has_a_headline_of_zeros() -> None:
    figures = headline({}, {}, {}, {})
    assert (figures.units, figures.sell_through_bps, figures.discount_bps, figures.return_bps) == (0, 0, 0, 0)
    assert figures.revenue_minor == {}


def test_footfall_and_conversion_per_pop_up_and_day() -> None:
    entered = {("paris", "2026-12-01"): 40, ("paris", "2026-12-02"): 0, ("brooklyn", "2026-12-01"): 25}
    days = {
        ("TEE", "paris", "2026-12-01"): {"till_sold": 2, "booked": 5},  # bookings are not the door's conversion
        ("HAT", "paris", "2026-12-01"): {"till_sold": 1},
        ("TEE", "web", "2026-12-01"): {"booked": 9},
    }
    assert footfall(entered, days).rows == (
        ("brooklyn", "2026-12-01", 25, 0, 0),
        ("paris", "2026-12-01", 40, 3, 750),
        ("paris", "2026-12-02", 0, 0, 0),
    )
