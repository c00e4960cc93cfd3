"""`make run`'s server answers concurrent requests as Lambda would: each request sees only its own
cookie, body and headers. Many threads mix visitors, quotes and bookings over a real socket."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.core.tokens import Purpose, sign
from devtools.live import CROWD_SETTINGS, LiveApp, live_app
from devtools.process import forget_process_state
from devtools.run import LOCAL_SECRET

SKUS = ["TEE-ECRU", "TEE-INK", "OVR-SAND", "BNE-HEATHER", "TOTE-ECRU"]
SIZES = {"TEE-ECRU": "M", "TEE-INK": "M", "OVR-SAND": "M", "BNE-HEATHER": "OS", "TOTE-ECRU": "OS"}


@pytest.fixture(scope="module")
def live() -> Iterator[LiveApp]:
    with live_app(settings=CROWD_SETTINGS) as app:  # a 503 from queueing says nothing about isolation
        yield app


def ask(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_concurrent_requests_never_see_each_other(live: LiveApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", LOCAL_SECRET)
    forget_process_state()
    gold = "dfv=" + sign(Purpose.VISITOR, {"v": uuid.uuid4().hex, "t": "gold"})
    wrong: list[str] = []

    def one(i: int) -> None:
        kind = i % 3
        if kind == 0:  # a gold visitor with a cookie, and an anonymous one without
            cookie = gold if i % 2 else None
            status, headers, body = ask(f"{live.url}/api/drops/linen-lab", headers={"Cookie": cookie} if cookie else {})
            if status != 200:
                wrong.append(f"{i}: the drop was answered {status} {body}")
                return
            rules = {rule for product in body["products"] for rule in product["offer"]["rules"]}
            resets_visitor = "dfv=" in headers.get("Set-Cookie", "")  # the edge's own cookie may come with it
            if cookie and (resets_visitor or "segment:gold" not in rules):
                wrong.append(f"{i}: the gold visitor was answered as another")
            if not cookie and ("Set-Cookie" not in headers or "segment:gold" in rules):
                wrong.append(f"{i}: the anonymous visitor was answered as another")
        elif kind == 1:  # a quote for one SKU
            sku = random.choice(SKUS)
            body = {"drop": "linen-lab", "items": [{"sku": sku, "size": SIZES[sku], "qty": 1}]}
            status, _, answer = ask(f"{live.url}/api/quote", body)
            if status != 200 or [line["sku"] for line in answer["lines"]] != [sku]:
                wrong.append(f"{i}: a quote for {sku} came back as {answer}")
        else:  # a booking with its key (for a slot that does not exist: refused, but never for the key)
            key = f"mixed-{uuid.uuid4().hex}"
            order = {"drop": "linen-lab", "popup": "paris-marais", "slot_start": "2026-01-01T00:00:00Z"}
            body = {
                **order,
                "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}],
                "contact": {"name": "A", "email": "a@b.co"},
            }
            status, _, answer = ask(f"{live.url}/api/pickups", body, {"Idempotency-Key": key})
            if answer.get("error", {}).get("code", "").startswith("idempotency_key"):
                wrong.append(f"{i}: a booking was told its key was {answer['error']['code']}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(240)))
    assert wrong == []
