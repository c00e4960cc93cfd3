from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.store.attributes import from_item, to_attribute, to_item

values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=8))
def test_round_trip(item: dict[str, Any]) -> None:
    stored = {k: v for k, v in item.items() if v is not None}
    assert from_item(to_item(item)) == stored


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object()])
def test_unstorable_values_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        to_attribute(value)


def test_coordinates_round_trip_as_floats() -> None:
    assert from_item(to_item({"lat": 48.8625, "n": 3})) == {"lat": 48.8625, "n": 3}
