"""What a customer's sighting adds to the drop's numbers: per pop-up, its customers (once each, new
if it was their first purchase anywhere, else returning) and its purchases, so the studio can show
new against returning customers, how often a pop-up's customers buy, and what a new one cost."""

from __future__ import annotations

from chalicelib import telemetry
from chalicelib.customers.ports import CustomerStore, Known, Sighting
from chalicelib.shop.ports import CellCounter


def customer_counts(sighting: Sighting, known: Known) -> dict[str, int]:
    """The counters a sighting adds (a purchase at a pop-up; nothing for a notify-me request)."""
    if not sighting.purchase or sighting.popup is None:
        return {}
    counts = {f"customer_purchases@{sighting.popup}": 1}
    if known.first_here:
        kind = "customers_new" if known.first_purchase else "customers_returning"
        counts |= {f"customers@{sighting.popup}": 1, f"{kind}@{sighting.popup}": 1}
    return counts


def see_customer(store: CustomerStore, numbers: CellCounter, sighting: Sighting) -> None:
    """Remember the customer and count them: best effort, after the booking or sale it follows has
    been made (a customer who cannot be remembered must never undo a sale)."""
    try:
        numbers.add(sighting.drop, customer_counts(sighting, store.see(sighting)))
    except Exception:  # noqa: BLE001 - throttled or unreachable: the sale stands
        telemetry.logger.warning("customer not counted", extra={"drop": sighting.drop, "popup": sighting.popup})
