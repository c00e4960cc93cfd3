"""What a booking tells its shopper by email: the confirmation, a reminder before the slot, and the
cancellation. Queued in the booking's (or the cancel's) own transaction; worded when sent, in the
booking's locale, from the booking as it is then."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.catalog.reader import Catalog
from chalicelib.core.errors import NotFound
from chalicelib.core.models import epoch_seconds, iso, localized
from chalicelib.i18n import formatting
from chalicelib.outbox.ports import Attachment, Email, MessageKind, MessageRecord, QueuedMessage
from chalicelib.pages.environment import template, translations
from chalicelib.shop.notify import NOTIFY_KINDS, render_notify_email
from chalicelib.shop.ports import SubscriptionStore
from chalicelib.stock.calendar import ics
from chalicelib.stock.page import confirmation_path, map_url, pickup_event
from chalicelib.stock.ports import Booking, BookingState, BookingStore

REMINDER_NOT_WITHIN = timedelta(minutes=30)  # a slot sooner than this after booking gets no reminder
QR_ID = "pickup-qr@dropfront"


def _subject(kind: MessageKind, booking: Booking, drop_name: str) -> str:
    gettext = translations(booking.locale).gettext
    subjects = {
        MessageKind.BOOKING_CONFIRMED: gettext("Your pickup is booked: %(drop)s, code %(code)s"),
        MessageKind.PICKUP_REMINDER: gettext("Reminder: your pickup of %(drop)s, code %(code)s"),
        MessageKind.BOOKING_CANCELLED: gettext("Your pickup %(code)s is cancelled"),
    }
    return subjects[kind] % {"drop": drop_name, "code": booking.code}


def _queued(kind: MessageKind, booking: Booking, drop_name: str, due: datetime, now: datetime) -> QueuedMessage:
    return QueuedMessage(
        id=f"{booking.code}-{kind.value}",  # one of each per booking, by construction
        kind=kind,
        to=booking.contact.email,
        locale=booking.locale,
        subject=_subject(kind, booking, drop_name),
        about=booking.code,
        due_at=epoch_seconds(due),
        created_at=iso(now),
    )


def booking_messages(
    booking: Booking, drop_name: str, now: datetime, reminder_hours: float
) -> tuple[QueuedMessage, ...]:
    """The confirmation (now) and, for a slot far enough ahead, the reminder before it."""
    confirmation = _queued(MessageKind.BOOKING_CONFIRMED, booking, drop_name, now, now)
    remind_at = datetime.fromisoformat(booking.slot_start) - timedelta(hours=reminder_hours)
    if remind_at - now < REMINDER_NOT_WITHIN:
        return (confirmation,)
    return confirmation, _queued(MessageKind.PICKUP_REMINDER, booking, drop_name, remind_at, now)


def cancellation_message(booking: Booking, now: datetime) -> QueuedMessage:
    return _queued(MessageKind.BOOKING_CANCELLED, booking, "", now, now)


def _qr_png(code: str) -> bytes:
    import segno  # here, not at import: a cold start's first page draws no QR code (15 ms saved)

    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="png", scale=8, border=2, dark="#1c1b19")
    return out.getvalue()


def render_booking_email(
    record: MessageRecord, bookings: BookingStore, catalog: Catalog, base_url: str
) -> Email | None:
    """The message's words from its booking as it is now; None when they would no longer be true
    (a confirmation or reminder for a booking that has left ``booked``)."""
    message = record.message
    booking = bookings.booking(message.about)
    if booking is None:
        return None
    if message.kind is not MessageKind.BOOKING_CANCELLED and booking.state is not BookingState.BOOKED:
        return None
    try:
        drop = catalog.drop(booking.drop)
    except NotFound:
        return None
    locale, fallback = message.locale, drop.drop.default_market.default_locale
    popup = next((loc for loc in drop.locations if loc.id == booking.popup), None)
    skus = {sku.sku: localized(sku.name, locale, fallback) for sku in drop.skus}
    page = base_url + confirmation_path(booking.code, locale)
    start = datetime.fromisoformat(booking.slot_start).astimezone(UTC)
    context: dict[str, Any] = {
        "kind": message.kind.value,
        "booking": booking,
        "drop_name": localized(drop.drop.name, locale, fallback),
        "popup_name": localized(popup.name, locale, fallback) if popup else booking.popup,
        "popup_address": popup.address if popup else None,
        "when": formatting.local_datetime(start, booking.timezone, locale),
        "zone_name": formatting.zone_name(booking.timezone, locale),
        "lines": [
            {
                "name": skus.get(item.sku, item.sku),
                "size": item.size,
                "qty": item.qty,
                "amount": formatting.money(item.line_minor, booking.currency, locale),
            }
            for item in booking.items
        ],
        "total": formatting.money(booking.total_minor, booking.currency, locale),
        "page_url": page,
        "drop_url": f"{base_url}/drops/{booking.drop}?lang={locale}",
        "map_url": map_url(popup) if popup else None,
        "qr_cid": QR_ID,
        "lang": locale.replace("_", "-"),
    }
    attachments: tuple[Attachment, ...] = ()
    if message.kind is not MessageKind.BOOKING_CANCELLED:
        event = ics(pickup_event(booking, drop, locale, page))
        attachments = (
            Attachment(f"pickup-{booking.code}.png", "image/png", _qr_png(booking.code), inline_id=QR_ID),
            Attachment(f"pickup-{booking.code}.ics", "text/calendar; method=PUBLISH", event.encode()),
        )
    return Email(
        to=message.to,
        subject=message.subject,
        text=template(locale, "email/booking.txt").render(context),
        html=template(locale, "email/booking.html").render(context),
        attachments=attachments,
    )


def render_email(
    record: MessageRecord, bookings: BookingStore, subscriptions: SubscriptionStore, catalog: Catalog, base_url: str
) -> Email | None:
    """Any queued message's words, by what it is about: a booking, or a notify-me subscription."""
    if record.message.kind in NOTIFY_KINDS:
        return render_notify_email(record, subscriptions, catalog, base_url)
    return render_booking_email(record, bookings, catalog, base_url)
