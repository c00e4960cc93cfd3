"""The day counters on each stock item: what the numbers, the tills and the catalog's markdown
signals read, in a module of their own so a reader of stock counts need not load the stock port."""

from __future__ import annotations

from enum import StrEnum


class Counter(StrEnum):
    """Day counters kept on each stock item, changed in the same write as what they count (units)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    PICKED_UP = "picked_up"
    NO_SHOW = "no_show"
    TILL_SOLD = "till_sold"
    TILL_REVENUE = "till_revenue"  # minor units, in the pop-up's currency
    RETURNED = "returned"  # back from a shopper at a pop-up (a till sale or a picked-up booking)
    EXCHANGED = "exchanged"  # handed out in exchange for a returned piece
