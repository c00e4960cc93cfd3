"""Which segments a visitor is in, from signed tokens and CloudFront's viewer headers. Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.core.models import Location

NEAR_KM = 5.0
EARTH_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Whereabouts:
    latitude: float | None
    longitude: float | None
    city: str | None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, a)))


def by_distance(where: Whereabouts, popups: Iterable[Location]) -> tuple[Location, ...]:
    """The pop-ups nearest first: by distance when the viewer's position is known (those without
    coordinates last), the viewer's city first otherwise, else in the catalog's order."""
    candidates = [p for p in popups if p.kind == "popup"]
    if where.latitude is not None and where.longitude is not None:
        lat, lon = where.latitude, where.longitude

        def distance(p: Location) -> float:
            if p.latitude is None or p.longitude is None:
                return math.inf
            return distance_km(lat, lon, p.latitude, p.longitude)

        return tuple(sorted(candidates, key=distance))
    if where.city:
        city = where.city.casefold()
        return tuple(sorted(candidates, key=lambda p: not (p.city and p.city.casefold() == city)))
    return tuple(candidates)


def nearest_popup(where: Whereabouts, popups: Iterable[Location], within_km: float = NEAR_KM) -> str | None:
    """The closest pop-up within ``within_km`` of the viewer, else one in the viewer's city."""
    candidates = [p for p in popups if p.kind == "popup"]
    if where.latitude is not None and where.longitude is not None:
        located = [
            (distance_km(where.latitude, where.longitude, p.latitude, p.longitude), p.id)
            for p in candidates
            if p.latitude is not None and p.longitude is not None
        ]
        close = sorted(d for d in located if d[0] <= within_km)
        if close:
            return close[0][1]
    if where.city:
        city = where.city.casefold()
        return next((p.id for p in candidates if p.city and p.city.casefold() == city), None)
    return None


def segments_of(
    *, tier: str | None, cohort: str | None, popup: str | None, near: str | None, returning: bool
) -> tuple[str, ...]:
    """Sorted segment labels: ``tier:…``, ``cohort:…``, ``near:…`` and ``visit:new|returning``."""
    found = {"visit:returning" if returning else "visit:new"}
    if tier:
        found.add(f"tier:{tier}")
    if cohort:
        found.add(f"cohort:{cohort}")
    for place in {popup, near} - {None}:
        found.add(f"near:{place}")
    return tuple(sorted(found))
