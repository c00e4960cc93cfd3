"""dynalite (npm): a second, independent DynamoDB engine on loopback, for single-item conditional writes.

It has no transactions. `make test` installs it from tests/emulators/package.json.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.live import ROOT, free_port

CLI = ROOT / "tests" / "emulators" / "node_modules" / "dynalite" / "cli.js"


@contextmanager
def dynalite(cli: Path = CLI) -> Iterator[str]:
    """Start dynalite in memory on a free port; yields its endpoint once it says it is listening."""
    if not cli.exists():
        raise RuntimeError(f"{cli} is missing: run `npm ci --prefix tests/emulators` (make test does)")
    port = free_port()
    process = subprocess.Popen(
        ["node", str(cli), "--host", "127.0.0.1", "--port", str(port), "--createTableMs", "0", "--deleteTableMs", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # dynalite prints this once its socket is listening
        if "listening" not in line.lower():
            raise RuntimeError(f"dynalite did not start: {line!r}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
