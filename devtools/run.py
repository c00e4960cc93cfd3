"""`make run`: embedded DynamoDB on loopback, the demo drops seeded (and the previous drop with two
weeks of history, devtools/history.py), the shopper app on :8000 behind the local edge (the
CloudFront Function and cache rules, ``/media`` as CloudFront serves it) and the studio on :8001.

Ctrl-C stops all of it.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from devtools.embedded_dynamodb import EmbeddedDynamoDB, quiet_request_log, use_fake_credentials
from devtools.live import ExitedEarly, wait_until_answers

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SECRET = "local-dev-only-not-a-secret"
REQUEST_LOGS = ROOT / ".run"
"""Where `make run` keeps its shop's request log, one file per port (what CloudWatch keeps in AWS)."""


def wait_until_up(url: str, process: subprocess.Popen[bytes], name: str, timeout: float = 60.0) -> None:
    """Until ``url`` answers; the command stops, naming the server, if it exits or never answers."""
    try:
        wait_until_answers(url, process, time.monotonic() + timeout)
    except (ExitedEarly, TimeoutError) as error:
        raise SystemExit(f"the {name} {error}") from None


SWEEP_SECONDS = 30  # Lambda's schedule is every minute; locally twice as often, so a message is sent within one


def sweep_every_minute(stop: threading.Event | None = None) -> None:
    """What the schedule does on Lambda (holds, scheduled publishes, the outbox), every
    ``SWEEP_SECONDS``; a sweep that fails is logged and the next one runs."""
    from app import sweep

    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            sweep(datetime.now(UTC))
        except Exception:
            logging.getLogger("dropfront").exception("minute sweep failed")
        stop.wait(SWEEP_SECONDS)


def publish_to_edge() -> None:
    """What a deploy writes to the edge's store (its keys) and the sweep keeps true (the drops)."""
    from chalicelib import wiring
    from chalicelib.core.tokens import signing_keys
    from chalicelib.edge.segment import edge_keys
    from chalicelib.edge.sync import sync_edge

    store = wiring.edge_store()
    if store is not None:
        sync_edge(store, edge_keys(signing_keys()), wiring.catalog(), datetime.now(UTC))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("DROPFRONT_PORT", "8000")))
    parser.add_argument("--dynamodb-port", type=int, default=int(os.environ.get("DROPFRONT_DYNAMODB_PORT", "8002")))
    parser.add_argument("--studio-port", type=int, default=int(os.environ.get("DROPFRONT_STUDIO_PORT", "8001")))
    args = parser.parse_args()

    use_fake_credentials()
    quiet_request_log()
    database = EmbeddedDynamoDB(args.dynamodb_port).start()
    os.environ["DROPFRONT_DYNAMODB_ENDPOINT"] = database.endpoint
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", LOCAL_SECRET)
    os.environ.setdefault("DROPFRONT_STAGE", "local")
    os.environ.setdefault("DROPFRONT_TABLE", "dropfront")
    os.environ.setdefault("DROPFRONT_STUDIO_TOKEN", secrets.token_urlsafe(24))
    os.environ.setdefault("DROPFRONT_PUBLIC_URL", f"http://127.0.0.1:{args.port}")
    os.environ.setdefault("DROPFRONT_SES_ENDPOINT", database.endpoint)  # moto's SES, on the same server
    request_log = REQUEST_LOGS / f"shop-{args.port}.log"
    request_log.unlink(missing_ok=True)  # this run's table is new: so are its decisions
    os.environ.setdefault("DROPFRONT_DECISION_LOG_FILE", str(request_log))  # the studio replays decisions from it
    edge_store = REQUEST_LOGS / f"edge-store-{args.port}.json"  # the local edge's KeyValueStore
    edge_store.unlink(missing_ok=True)
    os.environ.setdefault("DROPFRONT_EDGE_STORE_FILE", str(edge_store))

    from chalicelib.config import settings
    from chalicelib.store.client import dynamodb
    from chalicelib.store.tills import DynamoTills
    from chalicelib.tills.sales import issue_till_token
    from chalicelib.tryon.tags import Tag, tag_url
    from devtools.history import SLUG as PREVIOUS_DROP
    from devtools.history import seed_history
    from devtools.seed import ensure_table, seed, verify_sender

    table = settings().table_name
    fresh = ensure_table(dynamodb(), table)
    verify_sender()
    drops = seed(table, datetime.now(UTC), fresh=fresh)
    seed_history(table, datetime.now(UTC))  # the previous drop's fortnight, for the studio's numbers
    popups = sorted({loc.id for demo in drops for loc in demo.catalog.locations if loc.kind == "popup"})
    tills = {popup: issue_till_token(DynamoTills(table), popup, datetime.now(UTC)) for popup in popups}
    publish_to_edge()

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    app = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_edge", "--stage", "local", "--port", str(args.port)], cwd=ROOT, env=env
    )
    # The studio is its own origin, as in AWS: its previews load the shop's media from the shop.
    studio_env = {"DROPFRONT_MEDIA_URL": f"http://127.0.0.1:{args.port}/media", **env}
    studio = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--factory", "chalicelib.studio.app:create_app"),
            *("--host", "127.0.0.1", "--port", str(args.studio_port), "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=studio_env,
    )
    try:
        base = f"http://127.0.0.1:{args.port}"
        studio_base = f"http://127.0.0.1:{args.studio_port}"
        wait_until_up(f"{base}/healthz", app, "shopper app")
        wait_until_up(f"{studio_base}/studio/login", studio, "studio")
        print("\n  dropfront is running (Ctrl-C stops everything)\n")
        print(f"  embedded DynamoDB  {database.endpoint}   table {table}")
        for demo in drops:
            slug = demo.catalog.drop.slug
            print(f"  landing page       {base}/drops/{slug}   (?lang=fr|de|es|ja|ar)")
        print(f"  drops API          {base}/api/drops")
        for popup, token in tills.items():
            print(f"  pickup slots       {base}/api/popups/{popup}/slots")
            print(f"  till token         {popup}: {token}")
        for demo in drops:
            slug, first = demo.catalog.drop.slug, demo.catalog.skus[0]
            for popup in (loc.id for loc in demo.catalog.locations if loc.kind == "popup"):
                print(f"  QR try-on page     {tag_url(base, Tag(popup, first.sku, first.sizes[0]))}")
                sheets = f"{studio_base}/studio/drops/{slug}/qr-sheets?popup={popup}"
                print(f"  QR tag sheets      {sheets}   (every page; one PDF)")
        print(f"  studio             {studio_base}/studio/login   (drops, CSV import, pricing, numbers, pop-up staff)")
        print(f"  previous drop      {studio_base}/studio/drops/{PREVIOUS_DROP}/numbers   (two weeks of history)")
        print(f"  studio token       {os.environ['DROPFRONT_STUDIO_TOKEN']}   (Authorization: Bearer …)")
        print(f"  outbox             {studio_base}/studio/outbox   (confirmations and reminders, sent within a minute)")
        print(flush=True)
        threading.Thread(target=sweep_every_minute, name="minute-sweep", daemon=True).start()
        app.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for child in (app, studio):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
                try:
                    child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    child.kill()
        database.stop()
        request_log.unlink(missing_ok=True)  # its decisions' table is gone with the embedded DynamoDB


if __name__ == "__main__":
    main()
