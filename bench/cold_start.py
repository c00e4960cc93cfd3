"""Cold start: a fresh process that imports the app and serves its first landing page, against a
fresh process that imports boto3, builds a DynamoDB client and serves a Chalice hello-world route.

Runs are paired and alternate which goes first. Both are wall-clock times of the whole process
(interpreter start to exit); the app's DynamoDB round trips (moto's time) are subtracted. Bytecode is
compiled beforehand, as the deployment package ships it.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

BASELINE = """
import json, sys
import boto3
from chalice.app import Chalice
from devtools.lambda_event import LambdaContext, rest_event
client = boto3.session.Session().client("dynamodb", region_name="eu-west-1", endpoint_url=sys.argv[1])
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


def _run(code: str, endpoint: str, slug: str) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, endpoint, slug], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    dynamodb = json.loads(result.stdout.strip().splitlines()[-1])["dynamodb_seconds"]
    return wall, float(dynamodb)


def measure(endpoint: str, slug: str, pairs: int = 12) -> dict[str, Any]:
    compileall.compile_dir(str(ROOT / "chalicelib"), quiet=1)
    compileall.compile_dir(str(ROOT / "devtools"), quiet=1)
    compileall.compile_file(str(ROOT / "app.py"), quiet=1)
    _run(BASELINE, endpoint, slug)  # warm the page cache for both
    _run(APP, endpoint, slug)
    baseline, ours, dynamodb = [], [], []
    for pair in range(pairs):
        order = [("baseline", BASELINE), ("app", APP)]
        if pair % 2:
            order.reverse()
        for name, code in order:
            wall, db = _run(code, endpoint, slug)
            if name == "baseline":
                baseline.append(wall)
            else:
                ours.append(wall - db)
                dynamodb.append(db)
    ratios = [a / b for a, b in zip(ours, baseline, strict=True)]
    return {
        "pairs": pairs,
        "baseline_ms": round(statistics.median(baseline) * 1000, 1),
        "app_ms": round(statistics.median(ours) * 1000, 1),
        "app_dynamodb_ms_subtracted": round(statistics.median(dynamodb) * 1000, 1),
        "ratio_median_of_pairs": round(statistics.median(ratios), 2),
    }
