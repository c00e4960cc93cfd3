"""DynamoDB goes silent, then answers again: how long do shoppers wait, and how soon is it over?
(issue 15's figure; ``python -m bench.outage``, in ``make bench``.)

The app runs in-process (Chalice's test client) at its production timeouts (1 s connect, 2 s read,
3 attempts) against the embedded DynamoDB through a loopback proxy. The proxy goes silent: it
accepts connections and never answers, the worst kind of outage, since each attempt waits out its
read timeout. Shoppers keep coming: ``--requests`` requests to the stock API, one every 25 ms
(its 1 s stock cache answers the first second from memory), are timed while it is silent; each
connection the silence held is one attempt that waited. Then it answers again, and the time until
the first 200 is the recovery.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.setup import dynamodb_process
from bench.stats import percentile
from devtools.embedded_dynamodb import use_fake_credentials
from devtools.silent_proxy import SilenceableProxy

PATH = "/api/drops/linen-lab/stock"
PACE_SECONDS = 0.025


def measure(requests: int = 200) -> dict[str, Any]:
    from chalice.test import Client

    from chalicelib.store.client import dynamodb
    from devtools.process import forget_process_state
    from devtools.seed import ensure_table, seed

    use_fake_credentials()
    os.environ.setdefault("DROPFRONT_SECRET_KEYS", "bench-key")
    for name in ("CONNECT_TIMEOUT", "READ_TIMEOUT", "MAX_ATTEMPTS"):
        os.environ.pop(f"DROPFRONT_DYNAMODB_{name}", None)  # the production defaults
    with dynamodb_process() as endpoint, tempfile.TemporaryDirectory() as project:
        proxy = SilenceableProxy(int(endpoint.rsplit(":", 1)[1]))
        os.environ["DROPFRONT_DYNAMODB_ENDPOINT"] = f"http://127.0.0.1:{proxy.port}"
        forget_process_state()
        table = os.environ.get("DROPFRONT_TABLE", "dropfront")
        ensure_table(dynamodb(), table)
        seed(table, datetime.now(UTC))
        from app import app

        with Client(app, project_dir=project) as client:
            assert client.http.get(PATH).status_code == 200
            proxy.silent = True
            seconds, answers, began = [], [], time.perf_counter()
            for n in range(requests):
                time.sleep(max(0.0, began + n * PACE_SECONDS - time.perf_counter()))
                started = time.perf_counter()
                response = client.http.get(PATH)
                seconds.append(time.perf_counter() - started)
                answers.append((response.status_code, response.headers.get("Retry-After")))
            attempts_waited = proxy.silenced
            proxy.silent = False
            back = time.perf_counter()
            while client.http.get(PATH).status_code != 200:
                pass
            recovered = time.perf_counter() - back
        proxy.close()
    return {
        "requests": requests,
        "answers": sorted(f"{status} Retry-After: {retry}" for status, retry in set(answers)),
        "served_from_cache": sum(status == 200 for status, _ in answers),
        "p50_ms": round(percentile(seconds, 0.5) * 1000, 2),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 2),
        "slowest_s": round(max(seconds), 2),
        "next_slowest_ms": round(sorted(seconds)[-2] * 1000, 2),
        "requests_over_100ms": sum(s > 0.1 for s in seconds),
        "attempts_that_waited": attempts_waited,
        "recovered_s": round(recovered, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = parser.parse_args()
    figures = json.dumps(measure(args.requests), indent=2)
    print(figures)
    if args.out:
        args.out.write_text(figures + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
