"""The deployment package: its size (boto3 excluded: the runtime has it) and what bytecode saves."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from devtools.package import build, unpack_like_lambda


def _import_seconds(task: Path, pythonpath: str, runs: int) -> float:
    env = {
        "PYTHONPATH": pythonpath,
        "PYTHONDONTWRITEBYTECODE": "1",
        "DROPFRONT_SECRET_KEYS": "k",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        "PATH": os.environ.get("PATH", ""),
    }
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-S", "-c", "import app"], cwd=task, env=env, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(runs: int = 9) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        zip_path = build(root / "out")
        names = zipfile.ZipFile(zip_path).namelist()
        task, pythonpath = unpack_like_lambda(zip_path, root / "lambda")
        with_pyc = _import_seconds(task, pythonpath, runs)
        for cache in task.rglob("__pycache__"):
            shutil.rmtree(cache)
        source_only = _import_seconds(task, pythonpath, runs)
        return {
            "zipped_mb": round(zip_path.stat().st_size / 1e6, 2),
            "unzipped_mb": round(sum(i.file_size for i in zipfile.ZipFile(zip_path).infolist()) / 1e6, 1),
            # every .py, and the compiled templates, shipped as bytecode alone (beside, not in __pycache__)
            "modules": sum(n.endswith(".py") or (n.endswith(".pyc") and "__pycache__/" not in n) for n in names),
            "precompiled": sum(n.endswith(".pyc") for n in names),
            "import_app_ms_with_pyc": round(with_pyc * 1000, 1),
            "import_app_ms_source_only": round(source_only * 1000, 1),
            "source_only_ratio": round(source_only / with_pyc, 2),
        }
