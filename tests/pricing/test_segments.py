from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.pricing.segments import Whereabouts, distance_km, nearest_popup, segments_of
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
