"""Cold start: a fresh process that imports the app and serves its first landing page, against a
fresh process that imports boto3, builds a DynamoDB client, makes one GetItem and serves a Chalice
hello-world route.

Runs are paired and alternate which goes first. Each is measured whole (interpreter start to exit),
as wall time and as CPU time (user + system, from the child's rusage). Nothing is subtracted: both
make real reads, and the app's DynamoDB time is reported beside the figure. Both run against moto's
server and against dynalite holding the same items (``on_both_engines``), round by round, so
both engines' pairs see the same stretches of the machine's pace. Bytecode, the shopper's
templates and its dataclasses' methods are compiled beforehand, as the deployment package ships them.
"""

from __future__ import annotations

import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devtools.package import compile_dataclasses

ROOT = Path(__file__).resolve().parent.parent

BASELINE = """
import json, sys
import boto3
from chalice.app import Chalice
from devtools.lambda_event import LambdaContext, rest_event
client = boto3.session.Session().client("dynamodb", region_name="eu-west-1", endpoint_url=sys.argv[1])
client.get_item(TableName=sys.argv[3], Key={"pk": {"S": "POLICY#" + sys.argv[2]}, "sk": {"S": "CURRENT"}})
app = Chalice(app_name="hello")
@app.route("/")
def index():
    return {"hello": "world"}
response = app(rest_event("/"), LambdaContext())
assert response["statusCode"] == 200
print(json.dumps({"dynamodb_seconds": 0.0}))
"""

APP = """
import json, sys
import app
from chalicelib.telemetry import call_stats
from devtools.lambda_event import LambdaContext, rest_event
event = rest_event("/drops/{slug}", {"slug": sys.argv[2]}, headers={"Accept-Language": "fr"})
response = app.app(event, LambdaContext())
assert response["statusCode"] == 200, response["statusCode"]
print(json.dumps({"dynamodb_seconds": call_stats.seconds}))
"""


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _run(code: str, endpoint: str, slug: str, templates: Path) -> tuple[float, float, float]:
    """(wall, CPU, DynamoDB) seconds of one fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["DROPFRONT_TEMPLATES_DIR"] = str(templates)
    env["DROPFRONT_DYNAMODB_ENDPOINT"] = endpoint
    table = os.environ.get("DROPFRONT_TABLE", "dropfront")
    cpu, started = _cpu(), time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, endpoint, slug, table],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = time.perf_counter() - started, _cpu() - cpu
    dynamodb = json.loads(result.stdout.strip().splitlines()[-1])["dynamodb_seconds"]
    return wall, cpu, float(dynamodb)


def _ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def packaged_templates(into: Path) -> Path:
    """The templates as the package lays them out: their sources, and the shopper's compiled beside."""
    from chalicelib.pages.environment import COMPILED_TEMPLATES, compile_shipped

    templates = shutil.copytree(ROOT / "templates", into / "templates")
    compile_shipped(templates)
    compileall.compile_dir(str(into / COMPILED_TEMPLATES), quiet=1)
    return templates


def _summary(pairs: list[tuple[tuple[float, float, float], tuple[float, float, float]]]) -> dict[str, Any]:
    """Medians of (baseline, app) pairs of runs, and the median of each pair's ratio."""
    base, ours = [b for b, _ in pairs], [a for _, a in pairs]
    return {
        "pairs": len(pairs),
        "baseline_ms": _ms([r[0] for r in base]),
        "app_ms": _ms([r[0] for r in ours]),
        "baseline_cpu_ms": _ms([r[1] for r in base]),
        "app_cpu_ms": _ms([r[1] for r in ours]),
        "app_dynamodb_ms": _ms([r[2] for r in ours]),
        "ratio_median_of_pairs": round(statistics.median(a[0] / b[0] for b, a in pairs), 2),
        "cpu_ratio_median_of_pairs": round(statistics.median(a[1] / b[1] for b, a in pairs), 2),
    }


def measure(engines: Mapping[str, str], slug: str, pairs: int = 12) -> dict[str, dict[str, Any]]:
    """``pairs`` pairs against each engine (name → endpoint), taken round by round so that every
    engine's pairs see the same stretches of the machine's pace; each engine's summary."""
    for folder in ("chalicelib", "devtools"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)
    compileall.compile_file(str(ROOT / "app.py"), quiet=1)
    compile_dataclasses(ROOT / "chalicelib")
    runs: dict[str, list[tuple[tuple[float, float, float], tuple[float, float, float]]]] = {e: [] for e in engines}
    with tempfile.TemporaryDirectory() as scratch:
        templates = packaged_templates(Path(scratch))
        for endpoint in engines.values():  # warm each engine's page cache for both
            _run(BASELINE, endpoint, slug, templates)
            _run(APP, endpoint, slug, templates)
        for round_ in range(pairs):
            turn = -1 if round_ % 2 else 1  # which engine, and which of the pair, goes first alternates
            for engine, endpoint in list(engines.items())[::turn]:
                taken = {code: _run(code, endpoint, slug, templates) for code in (BASELINE, APP)[::turn]}
                runs[engine].append((taken[BASELINE], taken[APP]))
    return {engine: _summary(taken) for engine, taken in runs.items()}


def on_both_engines(moto: str, slug: str, pairs: int = 12) -> dict[str, dict[str, Any]]:
    """The figure against moto's server and against dynalite holding the same items. moto answers
    the landing page's Queries several times slower than dynalite, and than DynamoDB's
    single-digit milliseconds (BENCHMARKS.md), so dynalite's wall figure is the one closer to a
    Lambda's cold start on DynamoDB. The CPU figure is the app's own process on either."""
    from bench.setup import dynalite_copy

    with dynalite_copy(moto) as second:
        return measure({"moto": moto, "dynalite": second}, slug, pairs)


if __name__ == "__main__":  # python -m bench.cold_start [pairs]: this figure alone
    from bench.setup import BENCH_SLUG, seeded_dynamodb

    with seeded_dynamodb() as seeded:
        print(json.dumps(on_both_engines(seeded, BENCH_SLUG, int(sys.argv[1]) if len(sys.argv) > 1 else 12), indent=1))
