"""The outbox end to end on moto (DynamoDB and SES in-process): a booking queues its confirmation and
reminder in its own transaction; the sweep sends each exactly once, localized, with the pickup's QR
and calendar event; a cancel skips the reminder and confirms the cancel; SES failing once is retried."""

from __future__ import annotations

import email
import json
from datetime import datetime, timedelta
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import EndpointConnectionError
from chalice.test import Client
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from app import sweep
from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.outbox.ports import MessageKind, MessageStatus
from tests.conftest import LOCALES, json_of

PARIS = ZoneInfo("Europe/Paris")
JSON = {"Content-Type": "application/json"}


def sent() -> list[Message]:
    """What moto's SES has been given to send, parsed."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    return [email.message_from_string(m.raw_data) for m in backend.sent_messages]


def book(client: Client, seeded_at: datetime, lang: str = "fr", days: int = 1, **contact: str) -> dict[str, Any]:
    day = (seeded_at + timedelta(days=days)).astimezone(PARIS).date()
    slot = json_of(client.http.get(f"/api/popups/paris-marais/slots?date={day}"))["slots"][-1]["start"]
    cookie = client.http.get(f"/drops/linen-lab?lang={lang}").headers["Set-Cookie"].split(";")[0]
    order = {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "slot_start": slot,
        "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}],
        "contact": {"name": "Ada", "email": contact.get("to", "ada@example.org")},
    }
    key = f"outbox-{lang}-{days}-{contact.get('to', 'ada').replace('@', '.')}"
    headers = {**JSON, "Cookie": cookie, "Idempotency-Key": key, "Accept-Language": lang}
    response = client.http.post("/api/pickups", headers=headers, body=json.dumps(order))
    assert response.status_code == 201, response.body
    body: dict[str, Any] = json_of(response)
    return body


def statuses(to: str = "ada@example.org") -> dict[MessageKind, MessageStatus]:
    return {r.message.kind: r.status for r in wiring.outbox().for_recipient(to, 20)}


def test_a_booking_queues_its_messages_and_the_sweep_sends_each_once(client: Client, seeded_at: datetime) -> None:
    booked = book(client, seeded_at)
    assert statuses() == {
        MessageKind.BOOKING_CONFIRMED: MessageStatus.PENDING,
        MessageKind.PICKUP_REMINDER: MessageStatus.PENDING,
    }
    now = wiring.utcnow()
    sweep(now)
    sweep(now + timedelta(seconds=65))  # a second sweep finds nothing more to send
    (message,) = sent()
    assert statuses()[MessageKind.BOOKING_CONFIRMED] is MessageStatus.SENT
    assert statuses()[MessageKind.PICKUP_REMINDER] is MessageStatus.PENDING  # due three hours before the slot
    assert message["To"] == "ada@example.org" and booked["code"] in message["Subject"]
    assert "est réservé" in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    parts = {part.get_content_type(): part for part in message.walk()}
    assert {"text/plain", "text/html", "image/png", "text/calendar"} <= set(parts)
    html = parts["text/html"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert 'src="cid:pickup-qr@dropfront"' in html and "Votre retrait est réservé" in html
    assert f"/pickups/{booked['code']}?t=" in html and "openstreetmap.org" in html
    calendar = parts["text/calendar"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"UID:{booked['code']}@dropfront" in calendar
    text = parts["text/plain"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "&amp;" not in text and "&lang=fr" in text  # plain text is not HTML-escaped


def test_a_claim_tried_again_with_its_own_token_is_still_this_sweeps(client: Client, seeded_at: datetime) -> None:
    """botocore retries a claim whose reply was lost: the same token finds the claim its own; another
    sweep's token, while the lease runs, does not."""
    book(client, seeded_at)
    now = int(wiring.utcnow().timestamp())
    (due, *_) = wiring.outbox().due(now, 10)
    message_id = due.message.id
    assert wiring.outbox().claim(message_id, "sweep-a", now + 60, now)
    assert wiring.outbox().claim(message_id, "sweep-a", now + 60, now)  # the retry
    assert not wiring.outbox().claim(message_id, "sweep-b", now + 60, now)


def test_the_reminder_goes_before_the_slot_and_a_cancel_skips_it(client: Client, seeded_at: datetime) -> None:
    booked = book(client, seeded_at, lang="en", to="bo@example.org")
    sweep(wiring.utcnow())
    cancel = client.http.delete(
        f"/api/pickups/{booked['code']}", headers={"Authorization": f"Bearer {booked['cancel_token']}"}
    )
    assert cancel.status_code == 200
    later = datetime.fromisoformat(booked["slot_start"]) - timedelta(hours=2)
    sweep(later)
    assert statuses("bo@example.org") == {
        MessageKind.BOOKING_CONFIRMED: MessageStatus.SENT,
        MessageKind.PICKUP_REMINDER: MessageStatus.SKIPPED,
        MessageKind.BOOKING_CANCELLED: MessageStatus.SENT,
    }
    subjects = [m["Subject"] for m in sent()]
    assert subjects == [
        f"Your pickup is booked: Linen Lab, code {booked['code']}",
        f"Your pickup {booked['code']} is cancelled",
    ]


def test_a_failed_send_is_tried_again_and_sent_once(client: Client, seeded_at: datetime) -> None:
    """SES does not answer: botocore's own retry meets the same silence, so the sweep puts the message
    back with a backoff; a later sweep sends it, once."""
    book(client, seeded_at)
    failures: list[str] = []

    def silent_for_one_sweep(request: Any, **_: Any) -> None:
        if len(failures) < 2:  # both of botocore's attempts in the first sweep
            failures.append(request.url)
            raise EndpointConnectionError(endpoint_url=request.url)

    events = wiring.mailer()._ses().meta.events
    events.register_first("before-send.sesv2.SendEmail", silent_for_one_sweep)
    now = wiring.utcnow()
    sweep(now)
    assert len(failures) == 2 and sent() == []
    (record,) = [
        r
        for r in wiring.outbox().for_recipient("ada@example.org", 5)
        if r.message.kind is MessageKind.BOOKING_CONFIRMED
    ]
    assert (record.status, record.attempts) == (MessageStatus.PENDING, 1) and record.last_error
    sweep(now + timedelta(seconds=30))  # not before its backoff
    assert sent() == []
    sweep(now + timedelta(seconds=90))
    sweep(now + timedelta(seconds=150))
    assert len(sent()) == 1 and statuses()[MessageKind.BOOKING_CONFIRMED] is MessageStatus.SENT


@pytest.mark.parametrize("locale", LOCALES)
def test_messages_are_written_in_the_bookings_language(client: Client, seeded_at: datetime, locale: str) -> None:
    book(client, seeded_at, lang=locale, to=f"{locale}@example.org")
    sweep(wiring.utcnow())
    (message,) = sent()
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()  # type: ignore[union-attr]
    headings = {
        "en": "Your pickup is booked",
        "fr": "Votre retrait est réservé",
        "de": "Ihre Abholung ist gebucht",
        "es": "Tu recogida está reservada",
        "ja": "受け取りの予約が完了しました",
        "ar": "تم حجز موعد الاستلام",
    }
    assert f'lang="{locale}"' in html
    assert headings[locale] in html, html[:600]


def test_the_studio_lists_an_addresses_messages(
    client: Client, seeded_at: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.testclient import TestClient

    from chalicelib.studio.app import create_app

    monkeypatch.setenv("DROPFRONT_STUDIO_TOKEN", "studio-test-token")
    settings.cache_clear()
    booked = book(client, seeded_at, lang="de", to="Cleo@Example.org")
    sweep(wiring.utcnow())
    studio = TestClient(create_app())
    headers = {"Authorization": "Bearer studio-test-token"}
    listed = studio.get("/studio/api/outbox", params={"to": "cleo@example.org"}, headers=headers)
    assert listed.status_code == 200
    entries = {entry["kind"]: entry for entry in listed.json()}
    assert set(entries) == {"booking_confirmed", "pickup_reminder"}
    confirmation = entries["booking_confirmed"]
    assert confirmation["status"] == "sent" and confirmation["locale"] == "de" and confirmation["sent_at"]
    assert confirmation["subject"] == f"Ihre Abholung ist gebucht: Linen Lab, Code {booked['code']}"
    assert set(confirmation) >= {"id", "to", "kind", "locale", "subject", "status", "created_at", "sent_at"}
    page = studio.get("/studio/outbox", params={"to": "cleo@example.org"}, headers={**headers, "Accept": "text/html"})
    assert page.status_code == 200 and "Booking confirmation" in page.text and "Waiting to be sent" in page.text
    assert studio.get("/studio/api/outbox", params={"to": "cleo@example.org"}).status_code == 401
