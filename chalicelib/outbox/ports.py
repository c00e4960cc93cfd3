"""The outbox port: messages queued in the same transaction as what they announce, and the mailer
that sends them.

A queued message names what it is about (a booking's code, a subscription) and who it is for; its
words are rendered when it is sent, in its locale, from what is true then (a reminder for a booking
cancelled since is skipped, not sent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class MessageKind(StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    PICKUP_REMINDER = "pickup_reminder"
    BOOKING_CANCELLED = "booking_cancelled"
    NOTIFY_CONFIRM = "notify_confirm"  # "confirm you want to hear": the double opt-in's link
    DROP_OPEN = "drop_open"
    BACK_IN_STOCK = "back_in_stock"


class MessageStatus(StrEnum):
    PENDING = "pending"  # due, or waiting for its time or its next attempt
    SENDING = "sending"  # claimed by one sweep, for a lease
    SENT = "sent"
    SKIPPED = "skipped"  # no longer true when its time came (a reminder for a cancelled booking)
    FAILED = "failed"  # refused for good, or out of attempts: an alarm says so


@dataclass(frozen=True)
class QueuedMessage:
    """A message as its cause writes it: what, to whom, in which language, about what, when."""

    id: str
    kind: MessageKind
    to: str
    locale: str
    subject: str
    about: str  # the booking code, or the subscription's key, the words are rendered from when it is sent
    due_at: int  # epoch seconds
    created_at: str  # ISO 8601 UTC


@dataclass(frozen=True)
class MessageRecord:
    """A queued message and where it stands."""

    message: QueuedMessage
    status: MessageStatus
    not_before: int  # epoch seconds: when it may next be tried (its due time, later after a failure)
    attempts: int = 0
    sent_at: str | None = None
    provider_id: str | None = None  # the mail service's message id
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # "text/calendar; method=PUBLISH", "image/png"
    data: bytes
    inline_id: str | None = None  # a Content-ID the HTML refers to (cid:…), for inline images


@dataclass(frozen=True)
class Email:
    """A message as it is sent: rendered, in its locale."""

    to: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class MailRejected(Exception):
    """The mail service refused the message for good (an unverified sender, a malformed address)."""


class MailUnavailable(Exception):
    """The mail service did not take the message this time (throttled, unreachable): try later."""


class Mailer(Protocol):
    def send(self, email: Email) -> str: ...


class OutboxStore(Protocol):
    def due(self, now_epoch: int, limit: int) -> list[MessageRecord]: ...

    def claim(self, message_id: str, token: str, lease_until: int, now_epoch: int) -> bool: ...

    def finish(
        self, record: MessageRecord, token: str, status: MessageStatus, at_iso: str, provider_id: str | None = None
    ) -> bool: ...

    def retry(self, record: MessageRecord, token: str, not_before: int, error: str) -> bool: ...

    def for_recipient(self, email: str, limit: int) -> list[MessageRecord]: ...
