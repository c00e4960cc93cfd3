"""The queue page: the drop's name, how many are ahead, a progress bar and the expected wait, in
the shopper's language and time zone. It refreshes itself (no script needed), sooner as the turn
nears, and every refresh is a read, never a write."""

from __future__ import annotations

from datetime import datetime

from chalicelib.core.models import localized
from chalicelib.i18n import formatting
from chalicelib.pages.environment import template
from chalicelib.pages.frame import page_frame
from chalicelib.shop.shopper import ShopperDrop
from chalicelib.waiting.admission import Entry
from chalicelib.waiting.room import progress

REFRESH_SECONDS = (5, 30)
"""The page re-checks between these: soon when the turn is near, rarely when it is far."""


def refresh_seconds(wait_seconds: int) -> int:
    low, high = REFRESH_SECONDS
    return max(low, min(high, wait_seconds // 4))


def render_queue_page(shopper: ShopperDrop, entry: Entry, now: datetime, nonce: str, here: str) -> str:
    """The page; ``here`` is the one the shopper asked for (the drop's, or a QR try-on page), which
    "Check now" and the refresh ask for again."""
    drop, locale = shopper.view.catalog.drop, shopper.locale
    wait = entry.place.wait_seconds
    return template(locale, "queue.html").render(
        **page_frame(locale, nonce),
        drop_name=localized(drop.name, locale, drop.default_market.default_locale),
        ahead=entry.place.ahead,
        percent=round(100 * progress(entry.ticket.ahead_at_arrival, entry.place.ahead)),
        minutes=wait // 60,
        refresh=refresh_seconds(wait),
        checked=formatting.local_clock(now, shopper.zone, locale),
        zone_name=formatting.zone_name(shopper.zone, locale),
        drop_url=here,
    )
