"""Load the demo drops from demo_drop.json into a table. Idempotent; dates are relative to now.

Running it again rewrites the catalog (same content) and leaves existing stock alone, so a re-seed
never resets a sale in progress.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.core import records
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import Conflict
from chalicelib.core.models import Drop, DropCatalog, Location, ProductionBatch, Sku, iso, local_day
from chalicelib.pricing.policy import PricingPolicy
from chalicelib.stock.ports import StockLine, StockRef
from chalicelib.store.batches import DynamoBatches
from chalicelib.store.catalog import DynamoCatalog
from chalicelib.store.schema import table_definition

DEMO_FILE = Path(__file__).with_name("demo_drop.json")


@dataclass(frozen=True)
class DemoDrop:
    catalog: DropCatalog
    stock: tuple[StockLine, ...]
    pricing: PricingPolicy | None = None


def _at(now: datetime, hours: float | None) -> datetime | None:
    return None if hours is None else now + timedelta(hours=hours)


def _stock_rows(raw_sku: dict[str, Any]) -> Iterator[StockLine]:
    for location, counts in raw_sku["stock"].items():
        if len(counts) != len(raw_sku["sizes"]):
            raise ValueError(f"{raw_sku['sku']}: stock for {location} does not match its sizes")
        for size, units in zip(raw_sku["sizes"], counts, strict=True):
            yield StockLine(raw_sku["sku"], size, location, units)


def demo_drops(now: datetime, path: Path = DEMO_FILE) -> list[DemoDrop]:
    """The demo drops with their times placed relative to ``now`` (whole hours, UTC). Another file
    (the history's) may use the demo's locations and products without repeating them."""
    now = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    data = json.loads(path.read_text(encoding="utf-8"))
    base = data if path == DEMO_FILE else json.loads(DEMO_FILE.read_text(encoding="utf-8"))  # shared places, products
    locations = {}
    for raw in [*base["locations"], *(data["locations"] if data is not base else [])]:
        fields = {k: v for k, v in raw.items() if k not in ("opens_in_hours", "closes_in_hours")}
        locations[raw["id"]] = records.validate(
            Location,
            {
                **fields,
                "opens_at": _at(now, raw.get("opens_in_hours")),
                "closes_at": _at(now, raw.get("closes_in_hours")),
            },
        )
    shared = {**base.get("products", {}), **data.get("products", {})}
    drops = []
    for raw in data["drops"]:
        fields = {k: v for k, v in raw.items() if k not in ("starts_in_hours", "ends_in_hours", "skus", "pricing")}
        drop = records.validate(
            Drop, {**fields, "starts_at": _at(now, raw["starts_in_hours"]), "ends_at": _at(now, raw["ends_in_hours"])}
        )
        skus = tuple(
            records.validate(Sku, {**shared.get(s["product"], {}), **{k: v for k, v in s.items() if k != "stock"}})
            for s in raw["skus"]
        )
        stock = tuple(row for s in raw["skus"] for row in _stock_rows(s))
        catalog = DropCatalog(drop=drop, skus=skus, locations=tuple(locations[i] for i in drop.location_ids))
        pricing = records.validate(PricingPolicy, raw["pricing"]) if "pricing" in raw else None
        drops.append(DemoDrop(catalog, stock, pricing))
    return drops


def ensure_table(client: Any, table_name: str) -> bool:
    """Create the table (from the one schema definition) unless it exists; True if it created it."""
    existing = client.list_tables()["TableNames"]
    if table_name in existing:
        return False
    client.create_table(**table_definition(table_name))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.1})
    return True


def verify_sender() -> str:
    """Make the outbox's sender domain a verified SES identity (moto's, locally and in tests; in AWS
    infra creates it). Returns the domain."""
    import boto3

    from chalicelib.config import settings

    config = settings()
    domain = config.mail_from.rpartition("@")[2].rstrip(">").strip()
    client = boto3.session.Session().client("sesv2", region_name=config.region, endpoint_url=config.ses_endpoint)
    existing = {identity["IdentityName"] for identity in client.list_email_identities()["EmailIdentities"]}
    if domain not in existing:
        client.create_email_identity(EmailIdentity=domain)
    return domain


def seed(table_name: str, now: datetime, drops: list[DemoDrop] | None = None, *, fresh: bool = False) -> list[DemoDrop]:
    """Write the demo drops and their stock through the app's own adapter. A re-seed never resets a
    running sale's stock; ``fresh`` (the table was just created, so it has none) batches the writes."""
    store = DynamoCatalog(table_name)
    drops = demo_drops(now) if drops is None else drops
    for demo in drops:
        store.put_drop_catalog(demo.catalog)
        drop = demo.catalog.drop
        slug = drop.slug
        if fresh:
            store.put_fresh_stock(drop, demo.stock)
        else:
            for row in demo.stock:
                store.put_stock_if_absent(StockRef(slug, drop.generation, row.sku, row.size, row.location), row.on_hand)
        current = store.pricing_policy(slug)
        if demo.pricing and (current is None or current.version < demo.pricing.version):
            store.put_pricing_policy(slug, demo.pricing)
        if slug == "linen-lab":
            plan_demo_batch(table_name, now)
    return drops


DEMO_BATCH = "0000000000d1"


def plan_demo_batch(table_name: str, now: datetime) -> None:
    """A batch of the stone trousers' sold-out L, due at the Marais in four days (its card says so)."""
    due = local_day("Europe/Paris", now) + timedelta(days=4)
    batch = ProductionBatch(id=DEMO_BATCH, sku="TRS-STONE", location="paris-marais", ready_on=due, units={"L": 6})
    entry = AuditEntry("linen-lab", "demo", "batch", "batch planned: TRS-STONE (L × 6) for the Marais", iso(now))
    with contextlib.suppress(Conflict):  # seeded before
        DynamoBatches(table_name).plan("linen-lab", batch, entry)


def main() -> None:
    from chalicelib.config import settings
    from chalicelib.store.client import dynamodb

    parser = argparse.ArgumentParser(description="Seed the demo drops into the table.")
    parser.parse_args()
    table = settings().table_name
    for demo in seed(table, datetime.now(UTC), fresh=ensure_table(dynamodb(), table)):
        print(f"seeded {demo.catalog.drop.slug}: {len(demo.catalog.skus)} SKUs, {len(demo.stock)} stock rows")


if __name__ == "__main__":
    main()
