"""Scalpers and bargain hunters at once, over real sockets against the app as `make run` serves it:
one email on 64 cookies books exactly the drop's limit of a size, and 64 creator-cohort shoppers
racing for the last of a budget (the drop's, the pop-up's or the day's) are never granted a cent
past it."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import boto3
import pytest

from chalicelib.core.models import local_day
from devtools.embedded_dynamodb import FAKE_CREDENTIALS
from devtools.live import CROWD_SETTINGS, LiveApp, live_app
from devtools.process import forget_process_state
from devtools.run import LOCAL_SECRET
from tests.stock.test_hold_races import ask

LIMIT = 2  # the demo drop's units of each SKU and size per customer
SHOPPERS = 64


@pytest.fixture(scope="module")
def live() -> Iterator[LiveApp]:
    with live_app(settings=CROWD_SETTINGS) as app:
        yield app


@pytest.fixture
def fresh() -> Iterator[LiveApp]:
    """An app of its own: its stock, and its cached spend, untouched by another burst."""
    with live_app(settings=CROWD_SETTINGS) as app:
        yield app


def table(live: LiveApp):  # type: ignore[no-untyped-def]  # boto3's client type is built at run time
    return boto3.client(
        "dynamodb",
        endpoint_url=live.dynamodb_url,
        region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def slots(live: LiveApp) -> list[str]:
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    _, listed, _ = ask(f"{live.url}/api/popups/paris-marais/slots?date={day}")
    return [slot["start"] for slot in listed["slots"]]


def burst(work: list[object], act: object) -> None:
    barrier = threading.Barrier(len(work))

    def run(item: object) -> None:
        barrier.wait()
        act(item)  # type: ignore[operator]

    threads = [threading.Thread(target=run, args=(item,)) for item in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_one_email_on_many_cookies_books_exactly_the_limit(live: LiveApp) -> None:
    starts, outcomes, lock = slots(live), Counter[str](), threading.Lock()
    cookies = [ask(f"{live.url}/api/drops/linen-lab")[2] for _ in range(SHOPPERS)]

    def scalp(n: object) -> None:
        order = {
            "drop": "linen-lab",
            "popup": "paris-marais",
            "slot_start": starts[int(str(n)) % len(starts)],
            "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}],
            "contact": {"name": "Scalper", "email": f"Scalper+{n}@Example.org"},
        }
        headers = {"Cookie": cookies[int(str(n))], "Idempotency-Key": uuid.uuid4().hex}
        status, body, _ = ask(f"{live.url}/api/pickups", "POST", order, headers)
        with lock:
            outcomes[str(status) if status == 201 else body["error"]["code"]] += 1

    burst(list(range(SHOPPERS)), scalp)
    assert outcomes == Counter({"201": LIMIT, "customer_limit": SHOPPERS - LIMIT})


@pytest.mark.parametrize(
    ("counter", "budget"),
    [("creator-ana@EUR", 50_000), ("creator-ana@EUR@at:paris-marais", 30_000), ("creator-ana@EUR@day:", 20_000)],
    ids=["drop", "pop-up", "day"],
)
def test_a_cohort_budget_is_never_overspent_under_a_burst(
    fresh: LiveApp, monkeypatch: pytest.MonkeyPatch, counter: str, budget: int
) -> None:
    """The demo's creator cohort has a budget for the drop, for each pop-up and for each day (EUR
    minor units): whichever runs out first, none is granted a cent past it."""
    monkeypatch.setenv("DROPFRONT_SECRET_KEYS", LOCAL_SECRET)
    forget_process_state()
    from chalicelib.shop.visitors import campaign_link

    if counter.endswith("@day:"):
        counter += local_day("Europe/Paris", datetime.now(UTC)).isoformat()
    link = quote(campaign_link(cohort="ana"))
    cookies = [ask(f"{fresh.url}/api/drops/linen-lab?c={link}")[2] for _ in range(SHOPPERS)]
    # Room for only a few discounts (each grants about 8 to 27 EUR), while the pages still offer them.
    spend_key = {"pk": {"S": "POLICY#linen-lab"}, "sk": {"S": "SPEND"}}
    db = table(fresh)
    db.put_item(TableName="dropfront", Item={**spend_key, counter: {"N": str(budget - 6_000)}})
    starts, chooser = slots(fresh), random.Random(5)
    wanted = [("BNE-HEATHER", "OS"), ("TEE-INK", "XS"), ("TRS-CHAR", "M"), ("OVR-SAND", "S"), ("CRW-OAT", "M")]
    outcomes, granted, lock = Counter[str](), [0], threading.Lock()

    def hunt(n: object) -> None:
        sku, size = chooser.choice(wanted)
        order = {
            "drop": "linen-lab",
            "popup": "paris-marais",
            "slot_start": starts[int(str(n)) % len(starts)],
            "items": [{"sku": sku, "size": size, "qty": 1}],
            "contact": {"name": "Hunter", "email": f"hunter{n}@{counter.rpartition('@')[2]}.example.org"},
        }
        headers = {"Cookie": cookies[int(str(n))], "Idempotency-Key": uuid.uuid4().hex}
        status, body, _ = ask(f"{fresh.url}/api/pickups", "POST", order, headers)
        with lock:
            outcomes[str(status) if status == 201 else body["error"]["code"]] += 1
            if status == 201:
                line = body["items"][0]
                granted[0] += line["list_minor"] * line["qty"] - line["line_minor"]

    burst(list(range(SHOPPERS)), hunt)
    raw = db.get_item(TableName="dropfront", Key=spend_key, ConsistentRead=True)["Item"]
    spent = int(raw[counter]["N"])
    assert spent <= budget, outcomes
    # Charged only for discounts booked (a page whose cached spend caught up may offer the cell's alone).
    assert budget - 6_000 < spent <= budget - 6_000 + granted[0]
    assert outcomes["budget_spent"] > 0 and outcomes["201"] > 0, outcomes
