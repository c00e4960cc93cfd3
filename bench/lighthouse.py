"""Lighthouse (npm, mobile defaults) in Debian's Chromium, on the URLs shoppers open: the bare landing
URL (a link; the browser's Accept-Language picks the language), the bare QR try-on URL, the reserve
page (a hold, as the reserve button leads to it) and the pickup confirmation."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from devtools.process import forget_process_state

BENCH = Path(__file__).resolve().parent
LIGHTHOUSE = BENCH / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)


def tryon_url(base: str) -> str:
    """A demo tag's try-on URL, signed with the key `make run` uses (as `make tags` signs it)."""
    from chalicelib.tryon.tags import Tag, tag_url
    from devtools.run import LOCAL_SECRET

    saved = os.environ.get("DROPFRONT_SECRET_KEYS")
    os.environ["DROPFRONT_SECRET_KEYS"] = LOCAL_SECRET
    forget_process_state()
    try:
        return tag_url(base, Tag("paris-marais", "OVR-SAND", "M"))
    finally:
        if saved is None:
            os.environ.pop("DROPFRONT_SECRET_KEYS")
        else:
            os.environ["DROPFRONT_SECRET_KEYS"] = saved
        forget_process_state()


def ensure_installed() -> None:
    if not LIGHTHOUSE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def _lost(score: float | None) -> bool:
    """An audit that cost points (``None``: not applicable)."""
    return score is not None and score < 1


RUNS = 3


PRIVATE = ("is-crawlable",)
"""Audits skipped on a shopper's own pages (a hold, a booking and its token): they say ``noindex`` on
purpose, which Lighthouse's SEO category would count against them."""


def shopper_urls(base: str) -> dict[str, tuple[str, dict[str, str], tuple[str, ...]]]:
    """Each page a shopper opens, with the headers their phone sends: name → (URL, headers, audits
    skipped). The reserve page and the pickup confirmation are a demo visitor's own hold and booking,
    made through the JSON API of the app at ``base`` (its cookie goes with them)."""
    from tests.stock.test_hold_races import ask

    status, hold, cookie = ask(
        f"{base}/api/holds",
        "POST",
        {"drop": "linen-lab", "popup": "paris-marais", "items": [{"sku": "TEE-ECRU", "size": "M", "qty": 1}]},
    )
    assert status == 201, hold
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    _, slots, _ = ask(f"{base}/api/popups/paris-marais/slots?date={day}")
    order = {
        "drop": "linen-lab",
        "popup": "paris-marais",
        "slot_start": slots["slots"][0]["start"],
        "items": [{"sku": "TOTE-ECRU", "size": "OS", "qty": 1}],
        "contact": {"name": "Lighthouse", "email": "lighthouse@example.org"},
    }
    status, booked, _ = ask(f"{base}/api/pickups", "POST", order, {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, booked
    phone = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}
    return {
        "landing": (f"{base}/drops/linen-lab", phone, ()),
        "tryon": (tryon_url(base), phone, ()),
        "reserve": (f"{base}/drops/linen-lab/holds/{hold['hold_id']}", {**phone, "Cookie": cookie}, PRIVATE),
        "pickup": (f"{base}/pickups/{booked['code']}?t={quote(booked['cancel_token'])}", phone, PRIVATE),
    }


def scores(
    url: str, runs: int = RUNS, headers: dict[str, str] | None = None, skipped: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The median of ``runs`` Lighthouse runs (by performance score): its category scores, the audits
    that cost it points, and every run's performance score. One run is not a measurement here: Total
    Blocking Time on this 2-core VM swings a run's performance by 0.05 when a neighbour wakes up."""
    reports = sorted((_run(url, headers or {}, skipped) for _ in range(runs)), key=lambda r: r["scores"]["performance"])
    median = reports[len(reports) // 2]
    return {**median, "performance_runs": [r["scores"]["performance"] for r in reports], "skipped": list(skipped)}


def _run(url: str, headers: dict[str, str], skipped: tuple[str, ...]) -> dict[str, Any]:
    ensure_installed()
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                "--quiet",
                "--output=json",
                f"--output-path={report_path}",
                f"--chrome-flags={CHROME_FLAGS}",
                f"--extra-headers={json.dumps(headers)}",
                *([f"--skip-audits={','.join(skipped)}"] if skipped else []),
            ],
            env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")},
            check=True,
            timeout=300,
        )
        report = json.loads(report_path.read_text())
    categories = {name: category["score"] for name, category in report["categories"].items()}
    lost = [
        f"{name}: {report['audits'][ref['id']]['title']}"
        for name, category in report["categories"].items()
        for ref in category["auditRefs"]
        if ref.get("weight", 0) > 0 and _lost(report["audits"][ref["id"]].get("score"))
    ]
    return {"scores": categories, "lost_points": lost}
