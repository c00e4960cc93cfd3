"""Two sweeps at once, over a real socket (moto's server: DynamoDB and SES), send each due message
exactly once: the claim is a conditional write, and only one sweep's claim wins."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from app import sweep
from chalicelib.store.client import dynamodb
from devtools import flash_sale
from devtools.embedded_dynamodb import EmbeddedDynamoDB
from devtools.process import forget_process_state
from devtools.seed import ensure_table, verify_sender

BUYERS = 12


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with EmbeddedDynamoDB() as moto:
        monkeypatch.setenv("DROPFRONT_DYNAMODB_ENDPOINT", moto.endpoint)
        monkeypatch.setenv("DROPFRONT_SES_ENDPOINT", moto.endpoint)
        monkeypatch.setenv("DROPFRONT_TABLE", f"t-{uuid.uuid4().hex[:12]}")
        forget_process_state()
        yield moto.endpoint


def test_two_sweeps_at_once_send_each_message_once(server: str) -> None:
    from chalicelib.config import settings

    now = datetime.now(UTC)
    ensure_table(dynamodb(), settings().table_name)
    verify_sender()
    slots = flash_sale.prepare(settings().table_name, flash_sale.FlashSale(units=BUYERS, buyers=0, threads=1), now)
    for i in range(BUYERS):
        status, body = flash_sale.one_booking(slots[i % len(slots)], f"sweep-race-{i:02d}", now)
        assert status == 201, body
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    before = len(backend.sent_messages)
    barrier = threading.Barrier(2)

    def one_sweep(_: int) -> None:
        barrier.wait()
        sweep(datetime.now(UTC))

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one_sweep, range(2)))
    sent = backend.sent_messages[before:]
    subjects = sorted(message.raw_data.split("Subject: ", 1)[1].split("\n", 1)[0] for message in sent)
    assert len(sent) == BUYERS and len(set(subjects)) == BUYERS  # each booking's confirmation, once
