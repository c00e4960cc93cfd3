"""The studio's form readers: amounts in the merchant's units and local times, refused clearly."""

from __future__ import annotations

import pytest

from chalicelib.studio.drops import from_local, to_minor


@pytest.mark.parametrize("typed", ["sNaN", "NaN", "Infinity", "1e999999999", "1e-999999999", "1_000", "-1", "1.", ""])
def test_what_is_not_an_amount_a_person_types_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        to_minor(typed, "EUR")


@pytest.mark.parametrize(
    ("typed", "currency", "minor"), [("89.5", "EUR", 8950), ("89,50", "EUR", 8950), ("3000", "JPY", 3000)]
)
def test_amounts_become_minor_units_of_their_currency(typed: str, currency: str, minor: int) -> None:
    assert to_minor(typed, currency) == minor


@pytest.mark.parametrize("typed", ["9999-12-01T10:00", "1900-01-01T10:00", "2026-12-01T10:00+01:00"])
def test_a_local_time_out_of_range_or_with_an_offset_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        from_local(typed, "Europe/Paris")
