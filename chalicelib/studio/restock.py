"""Adding stock to a live drop (a delivery from the microfactory), from the drop's page or the JSON
API: audited with the units on hand before and after, in the same transaction. Shoppers waiting
for that size (notify-me) are emailed by the minute sweep once the units are there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import ConfigDict, Field

from chalicelib import wiring
from chalicelib.core.audit import AuditEntry, FieldChange
from chalicelib.core.model import Model
from chalicelib.core.models import DropCatalog, SizeLabel, SkuCode, Slug, iso
from chalicelib.stock.ports import StockRef
from chalicelib.studio.auth import Principal, Role
from chalicelib.studio.drops import FormProblems, place_name

MAX_UNITS = 10_000


class Restock(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: SkuCode
    size: SizeLabel
    location: Slug
    qty: Annotated[int, Field(ge=1, le=MAX_UNITS)]


def _checked(catalog: DropCatalog, fields: Mapping[str, str]) -> Restock:
    """The form's delivery, once it names a size of a piece and a place the drop has (422 with each
    problem on its field otherwise)."""
    found = FormProblems()
    wanted: Restock | None = found.model(lambda: Restock.model_validate(dict(fields)))
    if wanted is not None:
        sku = next((s for s in catalog.skus if s.sku == wanted.sku), None)
        if sku is None:
            found.add("sku", f"{wanted.sku} is not a piece of this drop")
        elif wanted.size not in sku.sizes:
            found.add("size", f"{wanted.sku} has no size {wanted.size} (it has {', '.join(sku.sizes)})")
        if wanted.location not in catalog.drop.location_ids:
            found.add("location", f"this drop has no stock at {wanted.location}")
    found.raise_any()
    assert wanted is not None  # raise_any raised otherwise
    return wanted


def add_stock(principal: Principal, catalog: DropCatalog, fields: Mapping[str, str]) -> tuple[AuditEntry, int]:
    """Add the form's units to the drop's live stock, audited; returns the entry and units on hand."""
    principal.require(Role.EDITOR)
    wanted = _checked(catalog, fields)
    drop = catalog.drop
    where = place_name(catalog, wanted.location)

    def entry(before: int, after: int) -> AuditEntry:
        what = f"{wanted.sku} {wanted.size} at {where}"
        change = FieldChange(f"{what}: units on hand", str(before), str(after))
        return AuditEntry(
            drop.slug, principal.subject, "stock", f"+{wanted.qty} {what}", iso(wiring.utcnow()), (change,)
        )

    on_hand, written = wiring.stock().restock(
        StockRef(drop.slug, drop.generation, wanted.sku, wanted.size, wanted.location), wanted.qty, entry
    )
    return written, on_hand
