"""Sending what the outbox holds, exactly once each: the minute sweep claims a due message (a
conditional write with a lease, so two sweeps never both send it), renders it, sends it, and records
it sent. A message the mail service did not take waits and is tried again; one refused for good, or
out of attempts, is marked failed and counted, for an alarm."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.core.models import epoch_seconds, iso
from chalicelib.outbox.ports import (
    Email,
    Mailer,
    MailRejected,
    MailUnavailable,
    MessageRecord,
    MessageStatus,
    OutboxStore,
)

LEASE_SECONDS = 120  # longer than one send can take (a Lambda's 10 s timeout, with room)
MAX_ATTEMPTS = 5
BATCH = 25  # messages per sweep: a minute's sweep stays well inside its timeout

Render = Callable[[MessageRecord], Email | None]
"""A message's words as of now, or None when what it announces is no longer true (skip it)."""


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def backoff_seconds(attempts: int) -> int:
    """1, 2, 4, 8 minutes between attempts."""
    return int(60 * 2 ** max(attempts - 1, 0))


def send_due(store: OutboxStore, mailer: Mailer, render: Render, now: datetime, limit: int = BATCH) -> SendReport:
    report = SendReport()
    now_epoch = epoch_seconds(now)
    for record in store.due(now_epoch, limit):
        message_id, token = record.message.id, secrets.token_hex(8)
        if not store.claim(message_id, token, now_epoch + LEASE_SECONDS, now_epoch):
            continue  # another sweep has it, or it is not due yet
        email = render(record)
        if email is None:
            store.finish(record, token, MessageStatus.SKIPPED, iso(now))
            report.skipped.append(message_id)
            continue
        try:
            provider_id = mailer.send(email)
        except MailUnavailable as error:
            attempts = record.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                store.finish(record, token, MessageStatus.FAILED, iso(now))
                report.failed.append(message_id)
            else:
                store.retry(record, token, now_epoch + backoff_seconds(attempts), str(error)[:300])
                report.retried.append(message_id)
            continue
        except MailRejected:
            store.finish(record, token, MessageStatus.FAILED, iso(now))
            report.failed.append(message_id)
            continue
        store.finish(record, token, MessageStatus.SENT, iso(now), provider_id)
        report.sent.append(message_id)
    return report
