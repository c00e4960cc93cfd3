from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.pricing.segments import Whereabouts, by_distance, distance_km, nearest_popup, segments_of
from devtools.seed import demo_drops

LOCATIONS = demo_drops(datetime(2030, 1, 1, tzinfo=UTC))[0].catalog.locations


def test_distance() -> None:
    assert 340 < distance_km(48.8566, 2.3522, 51.5074, -0.1278) < 350  # Paris–London


def test_nearest_popup_by_coordinates_then_city() -> None:
    assert nearest_popup(Whereabouts(48.86, 2.35, None), LOCATIONS) == "paris-marais"
    assert nearest_popup(Whereabouts(40.71, -73.95, None), LOCATIONS) == "brooklyn"
    assert nearest_popup(Whereabouts(45.76, 4.83, "Lyon"), LOCATIONS) is None  # far from both
    assert nearest_popup(Whereabouts(None, None, "brooklyn"), LOCATIONS) == "brooklyn"


def test_segments() -> None:
    assert segments_of(tier="gold", cohort=None, popup="brooklyn", near=None, returning=True) == (
        "near:brooklyn",
        "tier:gold",
        "visit:returning",
    )
    assert segments_of(tier=None, cohort=None, popup=None, near=None, returning=False) == ("visit:new",)


POPUPS = [loc for loc in demo_drops(datetime(2030, 1, 1, tzinfo=UTC))[0].catalog.locations if loc.kind == "popup"]


@given(st.floats(-90, 90), st.floats(-180, 180))
def test_pop_ups_come_nearest_first_from_anywhere(latitude: float, longitude: float) -> None:
    ordered = by_distance(Whereabouts(latitude, longitude, None), POPUPS)
    assert sorted(p.id for p in ordered) == sorted(p.id for p in POPUPS)
    distances = [distance_km(latitude, longitude, p.latitude or 0, p.longitude or 0) for p in ordered]
    assert distances == sorted(distances)


def test_without_a_position_the_viewers_city_comes_first_else_the_catalogs_order() -> None:
    assert [p.id for p in by_distance(Whereabouts(None, None, "Brooklyn"), POPUPS)] == ["brooklyn", "paris-marais"]
    assert [p.id for p in by_distance(Whereabouts(None, None, None), POPUPS)] == [p.id for p in POPUPS]
