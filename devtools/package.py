"""Build the Lambda deployment package: `chalice package`, then precompiled bytecode added to the zip.

Lambda cannot write ``__pycache__`` and source-only imports cost 1.3–2×, so every module in the
zip gets an unchecked-hash ``.pyc`` (valid whatever the zip's timestamps say) for the runtime's
Python, which must be the one running this script.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from chalicelib.core import dataclass_code
from chalicelib.i18n.locales import UI_LOCALES
from chalicelib.pages.environment import COMPILED_TEMPLATES, compile_shipped

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
KEPT_LOCALE_DATA = frozenset({"root", *UI_LOCALES})


CHALICE_CACHE = ROOT / ".chalice" / "deployments"


def _is_sound(zip_path: Path) -> bool:
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, OSError):
        return False


SETTLED_SECONDS = 600
"""A cached zip younger than this may still be being written by another build: left alone."""


def discard_broken_caches(cache: Path = CHALICE_CACHE, now: float | None = None) -> None:
    """Chalice writes its dependency zip straight to .chalice/deployments and reuses any file there
    with the right name, so a build that was interrupted (or disturbed) leaves a zip every later
    package is made from. A CI run failed that way; a broken cache is deleted, not trusted."""
    settled = (time.time() if now is None else now) - SETTLED_SECONDS
    for cached in cache.glob("*.zip"):
        if cached.stat().st_mtime < settled and not _is_sound(cached):
            print(f"{cached}: broken chalice dependency cache, deleted", file=sys.stderr)
            cached.unlink()


UNPACKAGED = shutil.ignore_patterns("__pycache__", "*.pyc", "deployments", "venv")


def _snapshot(into: Path) -> Path:
    """What ``chalice package`` reads, copied still: app.py, chalicelib/ (with the code of the
    shopper's dataclasses' methods), vendor/ (the templates, and the shopper's compiled beside them),
    requirements.txt and .chalice/. Chalice names its dependency
    zip by a hash of every file under chalicelib/, ``__pycache__`` included, so the package must not
    be built from a tree that other processes are writing bytecode into (tests importing modules for
    the first time on a fresh clone). The cache itself stays shared, in the project's .chalice."""
    project = into / "project"
    project.mkdir()
    shutil.copy2(ROOT / "app.py", project / "app.py")
    shutil.copy2(ROOT / "requirements.txt", project / "requirements.txt")
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=UNPACKAGED)
    shutil.copytree(ROOT / "vendor", project / "vendor", symlinks=False, ignore=UNPACKAGED)
    compile_shipped(project / "vendor" / "templates")
    compile_dataclasses(project / "chalicelib")
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=UNPACKAGED)
    CHALICE_CACHE.mkdir(parents=True, exist_ok=True)
    (project / ".chalice" / "deployments").symlink_to(CHALICE_CACHE, target_is_directory=True)
    return project


def compile_dataclasses(chalicelib: Path) -> None:
    """The shopper's dataclasses' methods, compiled into ``chalicelib`` (``chalicelib.core.dataclass_code``)
    by a fresh interpreter of the runtime's Python (this one) importing this checkout's app, whose
    files the snapshot copied (a text that differs is only compiled at run time, never run wrong)."""
    target = chalicelib / "core" / dataclass_code.SHIPPED.name
    subprocess.run([sys.executable, "-m", "devtools.dataclass_code", str(target)], cwd=ROOT, check=True)


def _run_chalice_package(out_dir: Path, stage: str) -> Path:
    out_dir = out_dir.resolve()  # chalice runs in the snapshot: a relative path would land in it
    if out_dir.exists():
        shutil.rmtree(out_dir)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")}
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryDirectory() as scratch:
        project = _snapshot(Path(scratch))
        subprocess.run([str(chalice), "package", "--stage", stage, str(out_dir)], cwd=project, env=env, check=True)
    return out_dir / "deployment.zip"


def chalice_package(out_dir: Path, stage: str) -> Path:
    """`chalice package`, checked: a zip that does not read back is rebuilt once from nothing."""
    discard_broken_caches()
    zip_path = _run_chalice_package(out_dir, stage)
    if _is_sound(zip_path):
        return zip_path
    print(f"{zip_path}: chalice wrote a zip that does not read back; rebuilding from nothing", file=sys.stderr)
    shutil.rmtree(CHALICE_CACHE, ignore_errors=True)
    zip_path = _run_chalice_package(out_dir, stage)
    if not _is_sound(zip_path):
        raise SystemExit(f"{zip_path}: chalice package wrote a broken zip twice")
    return zip_path


UNUSED_POWERTOOLS = tuple(
    f"aws_lambda_powertools/utilities/{name}/"
    for name in (
        "auth_alpha",
        "batch",
        "circuit_breaker",
        "data_masking",
        "feature_flags",
        "idempotency",
        "kafka",
        "parser",
        "streaming",
    )
)
"""Powertools utilities nothing here imports (and that the logger, metrics, tracer and parameters,
which are imported, never import): about half a megabyte of the zip."""


BUILD_ONLY = ("cffi/", "pycparser/")
"""cffi's Python side and the C parser it declares bindings with: cryptography runs on its compiled
bindings and cffi's ``_cffi_backend`` module (kept), and nothing imports these at run time (the
studio's Cognito signature check runs from the package in the tests). About 0.44 MB of the zip."""


NEVER_READ = (".po", ".pot", ".pyi", ".dist-info/RECORD")
"""Files nothing reads at run time: gettext's sources (pages read the compiled ``.mo``), type stubs,
and pip's list of installed files (``importlib.metadata`` reads a distribution's metadata and entry
points, not this)."""


def _unneeded(name: str) -> bool:
    """Babel ships ~1,000 locales; pages render only the UI locales (and Babel needs ``root``).
    Unused Powertools utilities go too, what only builds bindings, and what is never read."""
    if name.startswith((*UNUSED_POWERTOOLS, *BUILD_ONLY)) or name.endswith(NEVER_READ):
        return True
    prefix = "babel/locale-data/"
    if not name.startswith(prefix):
        return False
    locale = name[len(prefix) :].removesuffix(".dat")
    return locale not in KEPT_LOCALE_DATA


def finish(zip_path: Path) -> tuple[int, int]:
    """Rewrite the zip without unneeded files and with an unchecked-hash .pyc beside every .py (in
    place of it, for the compiled templates).

    Returns (modules precompiled, files dropped).
    """
    compiled = dropped = 0
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        rebuilt = root / "rebuilt.zip"
        with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                # Local __pycache__ files are timestamp-checked and would be stale on Lambda.
                if _unneeded(info.filename) or "__pycache__/" in info.filename:
                    dropped += 1
                    continue
                data = source.read(info)
                generated = info.filename.startswith(f"{COMPILED_TEMPLATES}/")
                if not generated:
                    target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                if not info.filename.endswith(".py"):
                    continue
                # Compiled templates are generated code: their bytecode alone, where Python imports
                # a module without source (beside it, not in __pycache__).
                pyc_name = (
                    info.filename + "c"
                    if generated
                    else Path(importlib.util.cache_from_source(info.filename)).as_posix()
                )
                module = root / "src" / info.filename
                module.parent.mkdir(parents=True, exist_ok=True)
                module.write_bytes(data)
                try:
                    py_compile.compile(
                        str(module),
                        cfile=str(root / "pyc"),
                        dfile=f"/var/task/{info.filename}",
                        doraise=True,
                        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                    )
                except py_compile.PyCompileError:
                    continue  # not valid for this Python; it still imports from source
                target.write(root / "pyc", pyc_name)
                compiled += 1
        shutil.move(rebuilt, zip_path)
    return compiled, dropped


# What the Lambda runtime provides besides the package: boto3 and what it needs.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def unpack_like_lambda(zip_path: Path, into: Path) -> tuple[Path, str]:
    """Unzip the package as /var/task and link in what the runtime provides.

    Returns the task directory and the PYTHONPATH to run it with (use ``python -S`` so nothing
    else from this machine's site-packages can stand in for a missing file).
    """
    task, provided = into / "task", into / "runtime"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task)
    provided.mkdir()
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for name in RUNTIME_PROVIDED:
        (provided / name).symlink_to(site / name)
    shutil.copy(ROOT / "devtools" / "lambda_event.py", provided / "lambda_event.py")
    return task, f"{task}:{provided}"


def runtime_of(out_dir: Path) -> str:
    template = json.loads((out_dir / "sam.json").read_text())
    runtimes = {
        r["Properties"].get("Runtime")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    (runtime,) = runtimes
    return str(runtime)


def awscrt_pin() -> str:
    """The awscrt botocore's ``crt`` extra names (``awscrt==…``): the one its SigV4A signer is built for."""
    from importlib.metadata import requires

    for requirement in requires("botocore") or []:
        name, _, marker = requirement.partition(";")
        if name.replace(" ", "").startswith("awscrt") and "crt" in marker:
            return name.replace(" ", "").replace("(", "").replace(")", "")
    raise SystemExit("botocore names no awscrt for its crt extra")


def build_edge_writer_layer(out_dir: Path) -> Path:
    """The layer the functions that write CloudFront KeyValueStore carry: awscrt, built for Lambda's
    x86_64 Linux and this Python (boto3 signs those writes with SigV4A, which needs it)."""
    layer_zip = out_dir / "edge-writer-layer.zip"
    with tempfile.TemporaryDirectory() as staging:
        target = Path(staging) / "python"
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:"),
                *("--platform", "manylinux2014_x86_64", "--implementation", "cp"),
                *("--python-version", f"{sys.version_info.major}.{sys.version_info.minor}"),
                *("--target", str(target), awscrt_pin()),
            ],
            check=True,
        )
        with zipfile.ZipFile(layer_zip, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(target.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(staging).as_posix())
    return layer_zip


def build(out_dir: Path, stage: str = "prod") -> Path:
    zip_path = chalice_package(out_dir, stage)
    build_edge_writer_layer(out_dir)
    runtime = runtime_of(out_dir)
    if runtime != RUNTIME:
        raise SystemExit(f"the package targets {runtime} but bytecode would be compiled by {RUNTIME}")
    compiled, dropped = finish(zip_path)
    size = zip_path.stat().st_size
    print(
        f"{zip_path}: {size / 1e6:.1f} MB zipped, {compiled} modules precompiled for {runtime}, {dropped} files pruned"
    )
    return zip_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--stage", default="prod")
    args = parser.parse_args()
    build(args.out_dir, args.stage)


if __name__ == "__main__":
    main()
