"""The outbox in the studio: every message sent or waiting for one address (what a shopper who says
"I never got my confirmation" was sent, when, and whether it went), as a page and as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chalicelib import wiring
from chalicelib.core.model import Model
from chalicelib.core.models import iso
from chalicelib.outbox.ports import MessageKind, MessageRecord, MessageStatus
from chalicelib.studio.web import page, principal_of
from chalicelib.web import responses
from chalicelib.web.request import parse_query

LISTED = 100
KINDS = {
    MessageKind.BOOKING_CONFIRMED: "Booking confirmation",
    MessageKind.PICKUP_REMINDER: "Pickup reminder",
    MessageKind.BOOKING_CANCELLED: "Cancellation",
    MessageKind.NOTIFY_CONFIRM: "Notify me: confirm the address",
    MessageKind.DROP_OPEN: "Notify me: the drop is open",
    MessageKind.BACK_IN_STOCK: "Notify me: the size is back",
}
STATUSES = {
    MessageStatus.PENDING: "Waiting to be sent",
    MessageStatus.SENDING: "Being sent",
    MessageStatus.SENT: "Sent",
    MessageStatus.SKIPPED: "Not sent: no longer true",
    MessageStatus.FAILED: "Failed: not sent",
}


class OutboxQuery(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    to: Annotated[str, Field(max_length=254)] = ""


def outbox_entry(record: MessageRecord) -> dict[str, Any]:
    """One message as the studio's API lists it."""
    message = record.message
    return {
        "id": message.id,
        "to": message.to,
        "kind": message.kind.value,
        "locale": message.locale,
        "subject": message.subject,
        "status": record.status.value,
        "created_at": message.created_at,
        "due_at": iso(datetime.fromtimestamp(message.due_at, tz=UTC)),
        "sent_at": record.sent_at,
        "attempts": record.attempts,
    }


def _listed(request: Request) -> tuple[str, list[MessageRecord]]:
    to = parse_query(request.query_params, OutboxQuery).to.strip()
    return to, wiring.outbox().for_recipient(to, LISTED) if "@" in to else []


async def outbox_api(request: Request) -> Response:
    """``[{id, to, kind, locale, subject, status, created_at, sent_at}]``, newest first."""
    principal_of(request)
    _, records = _listed(request)
    headers = {**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE}
    return JSONResponse([outbox_entry(record) for record in records], headers=headers)


async def outbox_page(request: Request) -> Response:
    principal = principal_of(request)
    to, records = _listed(request)
    rows = [
        {
            **outbox_entry(record),
            "kind_text": KINDS[record.message.kind],
            "status_text": STATUSES[record.status],
            "created": record.message.created_at[:16].replace("T", " "),
            "sent": (record.sent_at or "")[:16].replace("T", " "),
        }
        for record in records
    ]
    return page("outbox.html", principal=principal, to=to, rows=rows)
