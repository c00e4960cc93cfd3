"""What the edge function reads from CloudFront KeyValueStore: the keys it verifies segment cookies
with, and per drop the experiments and pop-ups it draws a visitor's cells and nearest pop-up from.

A KeyValueStore value holds at most 1 KB: a drop whose document would not fit gets none, and its
pages are then rendered per visitor, uncached, which is slower but never wrong. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.core.models import Location
from chalicelib.edge.segment import EdgeKey
from chalicelib.pricing.policy import Experiment

MAX_VALUE_BYTES = 1024
CURRENT_KEY = "k.current"


def key_entries(keys: Iterable[EdgeKey]) -> dict[str, str]:
    """Every edge key by its id, and which one signs (the newest)."""
    entries = {f"k.{key.kid}": key.secret.hex() for key in keys}
    newest = list(entries)[-1:] if entries else []
    return entries | ({CURRENT_KEY: newest[0].removeprefix("k.")} if newest else {})


def drop_entry_name(slug: str) -> str:
    return f"d.{slug}"


def drop_document(
    version: int | None, experiments: Iterable[Experiment], segments: Iterable[str], locations: Iterable[Location]
) -> str:
    """The drop's experiments (id, seed, group, weighted cells), the policy version they belong to,
    the segments its rules price (the key leaves out the others), and its pop-ups (id, latitude,
    longitude, city), compactly."""
    document = {
        "v": version,
        "s": sorted(set(segments)),
        "x": [
            [e.id, e.seed, e.group, [[c.name, c.weight] for c in e.cells]]
            for e in sorted(experiments, key=lambda e: e.id)
        ],
        "p": [[loc.id, loc.latitude, loc.longitude, loc.city] for loc in locations if loc.kind == "popup"],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Plan:
    """What to write to and delete from the store to make it hold ``wanted``."""

    put: dict[str, str]
    delete: tuple[str, ...]
    too_large: tuple[str, ...]  # entries left out for their size


def plan(current: Mapping[str, str], wanted: Mapping[str, str], managed: tuple[str, ...]) -> Plan:
    """The writes that turn ``current`` into ``wanted`` for the entries whose names start ``managed``:
    changed ones are put, ones no longer wanted are deleted, oversized ones are left out (and
    deleted if present, so the edge never works from a stale one)."""
    too_large = tuple(sorted(k for k, v in wanted.items() if len(v.encode()) > MAX_VALUE_BYTES))
    fitting = {k: v for k, v in wanted.items() if k not in too_large}
    put = {k: v for k, v in fitting.items() if current.get(k) != v}
    delete = tuple(sorted(k for k in current if k.startswith(managed) and k not in fitting))
    return Plan(put, delete, too_large)
