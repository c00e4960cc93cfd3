"""Production batches, from the drop's page or the JSON API: a marketer records what a
microfactory is making (a piece, units per size, where they go, the day they are due), and marks
it received when it arrives, which adds its units to the stock there. Shoppers see "next batch"
for sold-out sizes that have one, and whoever asked to hear about a size is emailed by the minute
sweep once its units are there."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from pydantic import ConfigDict, Field

from chalicelib import wiring
from chalicelib.core.audit import AuditEntry, FieldChange
from chalicelib.core.errors import NotFound
from chalicelib.core.model import Model
from chalicelib.core.models import DropCatalog, ProductionBatch, SizeLabel, SkuCode, Slug, iso, local_day
from chalicelib.studio.auth import Principal, Role
from chalicelib.studio.drops import FormProblems, place_name
from chalicelib.studio.restock import MAX_UNITS


class BatchPlan(Model):
    """A batch as the form or the JSON API gives it: ``units`` per size (sizes left out get none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: SkuCode
    location: Slug
    ready_on: date
    units: dict[SizeLabel, Annotated[int, Field(ge=0, le=MAX_UNITS)]] = Field(max_length=20)


def plan_from_form(fields: Mapping[str, str]) -> dict[str, object]:
    """The form's fields (``units.<size>`` per size; blank is none) as a ``BatchPlan``'s input."""
    units = {name.removeprefix("units."): text.strip() for name, text in fields.items() if name.startswith("units.")}
    return {
        "sku": fields.get("sku", ""),
        "location": fields.get("location", ""),
        "ready_on": fields.get("ready_on", ""),
        "units": {size: text for size, text in units.items() if text and text != "0"},
    }


def _checked(catalog: DropCatalog, raw: Mapping[str, object]) -> ProductionBatch:
    found = FormProblems()
    plan: BatchPlan | None = found.model(lambda: BatchPlan.model_validate(dict(raw)))
    if plan is not None:
        sku = next((s for s in catalog.skus if s.sku == plan.sku), None)
        place = next((p for p in catalog.locations if p.id == plan.location), None)
        if sku is None:
            found.add("sku", f"{plan.sku} is not a piece of this drop")
        else:
            for size in plan.units:
                if size not in sku.sizes:
                    found.add(f"units.{size}", f"{plan.sku} has no size {size} (it has {', '.join(sku.sizes)})")
        if place is None:
            found.add("location", f"this drop has no stock at {plan.location}")
        elif plan.ready_on < local_day(place.timezone, wiring.utcnow()):
            found.add("ready_on", f"is in the past at {place.id} ({place.timezone})")
        if not any(plan.units.values()):
            found.add("units", "give the units of at least one size")
    found.raise_any()
    assert plan is not None  # raise_any raised otherwise
    units = {size: qty for size, qty in plan.units.items() if qty}
    return ProductionBatch(
        id=secrets.token_hex(6), sku=plan.sku, location=plan.location, ready_on=plan.ready_on, units=units
    )


def _words(catalog: DropCatalog, batch: ProductionBatch) -> str:
    where = place_name(catalog, batch.location)
    sizes = ", ".join(f"{size} × {qty}" for size, qty in batch.units.items())
    return f"{batch.sku} ({sizes}) for {where}"


def plan_batch(principal: Principal, catalog: DropCatalog, raw: Mapping[str, object]) -> AuditEntry:
    """Record the batch, audited; 422 with each problem on its field."""
    principal.require(Role.EDITOR)
    batch = _checked(catalog, raw)
    zone = next(p.timezone for p in catalog.locations if p.id == batch.location)
    summary = f"batch planned: {_words(catalog, batch)}, ready {batch.ready_on.isoformat()} ({zone})"
    entry = AuditEntry(catalog.drop.slug, principal.subject, "batch", summary, iso(wiring.utcnow()))
    wiring.batches().plan(catalog.drop.slug, batch, entry)
    return entry


def receive_batch(principal: Principal, catalog: DropCatalog, batch_id: str) -> AuditEntry:
    """Add a planned batch's units to the stock at its place, once (409 ``batch_received`` after)."""
    principal.require(Role.EDITOR)
    batch = next((b for b in catalog.batches if b.id == batch_id), None)
    if batch is None:
        raise NotFound("This drop has no such batch.", code="unknown_batch")

    def entry(on_hand: Mapping[str, tuple[int, int]]) -> AuditEntry:
        changes = tuple(
            FieldChange(f"{batch.sku} {size} at {batch.location}: units on hand", str(before), str(after))
            for size, (before, after) in on_hand.items()
        )
        summary = f"batch received: {_words(catalog, batch)}"
        return AuditEntry(catalog.drop.slug, principal.subject, "stock", summary, iso(wiring.utcnow()), changes)

    return wiring.batches().receive(catalog.drop.slug, catalog.drop.generation, batch, wiring.utcnow(), entry)
