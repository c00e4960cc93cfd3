"""What a customer's sighting adds to the drop's numbers: per pop-up, its customers (once each, new
if it was their first purchase anywhere, else returning) and its purchases, so the studio can show
new against returning customers, how often a pop-up's customers buy, and what a new one cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from chalicelib import telemetry
from chalicelib.core.models import iso
from chalicelib.customers.ports import CustomerStore, Known, Sighting
from chalicelib.shop.ports import CellCounter
from chalicelib.stock.limits import customer_key


def customer_counts(sighting: Sighting, known: Known) -> dict[str, int]:
    """The counters a sighting adds (a purchase at a pop-up; nothing for a notify-me request)."""
    if not sighting.purchase or sighting.popup is None:
        return {}
    counts = {f"customer_purchases@{sighting.popup}": 1}
    if known.first_here:
        kind = "customers_new" if known.first_purchase else "customers_returning"
        counts |= {f"customers@{sighting.popup}": 1, f"{kind}@{sighting.popup}": 1}
    return counts


def see_customers(store: CustomerStore, numbers: CellCounter, sightings: Iterable[Sighting]) -> None:
    """Remember the customers and count them, one counter write per drop however many there are (a
    till's batch): best effort, after the bookings or sales they follow were made (a customer who
    cannot be remembered must never undo a sale)."""
    by_drop: dict[str, Counter[str]] = {}
    for sighting in sightings:
        try:
            counts = customer_counts(sighting, store.see(sighting))
        except Exception:  # noqa: BLE001 - throttled or unreachable: the sale stands
            telemetry.logger.warning("customer not seen", extra={"drop": sighting.drop, "popup": sighting.popup})
            continue
        by_drop.setdefault(sighting.drop, Counter()).update(counts)
    for drop, counts in by_drop.items():
        try:
            numbers.add(drop, counts)
        except Exception:  # noqa: BLE001 - as above
            telemetry.logger.warning("customers not counted", extra={"drop": drop, "counts": dict(counts)})


def see_customer(
    store: CustomerStore, numbers: CellCounter, email: str, drop: str, bought_at: str | None, now: datetime
) -> None:
    """One customer seen buying at the pop-up ``bought_at``, or (None) asking to hear about the drop."""
    sighting = Sighting(customer_key(email), drop, bought_at, iso(now), purchase=bought_at is not None)
    see_customers(store, numbers, [sighting])
