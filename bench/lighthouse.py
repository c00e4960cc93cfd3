"""Lighthouse (npm, mobile defaults) against the landing page in Debian's Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
LIGHTHOUSE = BENCH / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)


def ensure_installed() -> None:
    if not LIGHTHOUSE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def scores(url: str) -> dict[str, Any]:
    """Category scores and the audits that cost points."""
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
        if ref.get("weight", 0) > 0 and (report["audits"][ref["id"]].get("score") or 1) < 1
    ]
    return {"scores": categories, "lost_points": lost}
