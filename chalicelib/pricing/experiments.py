"""Experiment cells by deterministic hashing: the same visitor gets the same cell in every container.

A visitor is hashed with an experiment's seed into 10,000 buckets, and the buckets are split by the
cells' weights. Experiments that share a ``group`` are mutually exclusive: the visitor is first
hashed with the group's name to pick at most one of them. The client never chooses a cell.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.pricing.policy import Cell, Experiment

BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class Assignment:
    experiment: str
    cell: Cell

    @property
    def label(self) -> str:
        return f"{self.experiment}:{self.cell.name}"


def bucket(visitor_id: str, seed: str) -> int:
    """SHA-256 because the edge function draws the same cells (``infra/edge/storefront.js``) and its
    runtime has no other hash in common with Python's; its first four bytes, a safe integer in JS."""
    digest = hashlib.sha256(f"{seed}\x00{visitor_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % BUCKETS


def cell_for(visitor_id: str, experiment: Experiment) -> Cell:
    total = sum(cell.weight for cell in experiment.cells)
    point = bucket(visitor_id, experiment.seed) * total // BUCKETS
    for cell in experiment.cells:
        if point < cell.weight:
            return cell
        point -= cell.weight
    raise AssertionError("unreachable: point < total weight")


def assign(visitor_id: str, experiments: Iterable[Experiment]) -> tuple[Assignment, ...]:
    """The visitor's cells, one per experiment they are in, in experiment-id order."""
    grouped: dict[str | None, list[Experiment]] = {}
    for experiment in experiments:
        grouped.setdefault(experiment.group, []).append(experiment)
    chosen = list(grouped.pop(None, []))
    for group, members in grouped.items():
        members.sort(key=lambda e: e.id)
        chosen.append(members[bucket(visitor_id, f"group:{group}") * len(members) // BUCKETS])
    return tuple(Assignment(e.id, cell_for(visitor_id, e)) for e in sorted(chosen, key=lambda e: e.id))


def pricing_cell(assignments: tuple[Assignment, ...]) -> Assignment | None:
    """The one cell that may vary price: the first (by experiment id) with a discount."""
    return next((a for a in assignments if a.cell.discount_bps), None)


def urgency(assignments: tuple[Assignment, ...]) -> str:
    """The urgency message the visitor's cells ask for (the first that asks for one)."""
    return next((a.cell.urgency for a in assignments if a.cell.urgency != "none"), "none")


def with_cell(
    experiments: Iterable[Experiment], label: str, assignments: tuple[Assignment, ...]
) -> tuple[Assignment, ...]:
    """``assignments`` with the cell ``experiment:cell`` forced in its place (the studio previews a
    cell this way); ``ValueError`` if the policy has no such cell."""
    by_id = {e.id: e for e in experiments}
    experiment_id, _, cell_name = label.partition(":")
    experiment = by_id.get(experiment_id)
    cell = next((c for c in experiment.cells if c.name == cell_name), None) if experiment else None
    if experiment is None or cell is None:
        raise ValueError(f"no experiment cell {label!r}")

    def overlaps(other: Assignment) -> bool:
        group = by_id[other.experiment].group if other.experiment in by_id else None
        return other.experiment == experiment_id or (experiment.group is not None and group == experiment.group)

    kept = [a for a in assignments if not overlaps(a)]
    return tuple(sorted([*kept, Assignment(experiment_id, cell)], key=lambda a: a.experiment))
