"""`chalice package` plus our bytecode step makes a zip that holds everything the runtime reads."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from chalicelib.i18n.locales import UI_LOCALES
from devtools.package import discard_broken_caches, unpack_like_lambda

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def package(lambda_package: Path) -> Path:
    return lambda_package / "deployment.zip"


def test_zip_holds_code_templates_catalogs_and_bytecode(package: Path) -> None:
    names = set(zipfile.ZipFile(package).namelist())
    assert "app.py" in names
    shipped_templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()}
    assert shipped_templates <= names
    compiled = [n for n in names if n.startswith("compiled-templates/")]
    assert all(n.startswith("compiled-templates/tmpl_") and n.endswith(".pyc") for n in compiled)  # bytecode alone
    assert len(compiled) == len([t for t in shipped_templates if not t.startswith("templates/studio/")])
    assert not any(n.endswith((".po", ".pyi", ".dist-info/RECORD")) for n in names)  # never read
    for locale in UI_LOCALES:
        assert f"chalicelib/translations/{locale}/LC_MESSAGES/messages.mo" in names
        assert f"babel/locale-data/{locale}.dat" in names
    assert "chalicelib/studio/static/editor.js" in names  # the studio's editor, bundled by `make editor`
    assert f"chalicelib/core/dataclass-code.{sys.implementation.cache_tag}.bin" in names
    modules = [n for n in names if n.endswith(".py")]
    missing = [m for m in modules if Path(importlib.util.cache_from_source(m)).as_posix() not in names]
    assert missing == []
    stale = [n for n in names if n.endswith(".pyc") and n not in compiled and sys.implementation.cache_tag not in n]
    assert stale == []
    with zipfile.ZipFile(package) as archive:  # sourceless bytecode names no Python: its magic number does
        assert {archive.read(n)[:4] for n in compiled} == {importlib.util.MAGIC_NUMBER}
    assert not any(n.startswith(("boto3/", "botocore/")) for n in names)
    assert package.stat().st_size <= 15 * 1024 * 1024


def test_the_package_serves_a_localized_page_from_its_own_files(package: Path, tmp_path: Path) -> None:
    task, pythonpath = unpack_like_lambda(package, tmp_path)
    script = (
        "import json, dataclasses, app, lambda_event as e\n"
        "event = e.rest_event('/drops/{slug}', {'slug': 'NOT-A-SLUG'}, headers={'Accept-Language': 'fr'})\n"
        "r = app.app(event, e.LambdaContext())\n"
        "shipped = vars(dataclasses)['exec']\n"
        "print(json.dumps({'status': r['statusCode'], 'lang': r['headers']['Content-Language'], 'body': r['body'],"
        " 'dataclasses': [len(shipped.codes), shipped.compiled]}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-v", "-c", script],
        cwd=task,
        env={
            "PYTHONPATH": pythonpath,
            "DROPFRONT_SECRET_KEYS": "k",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 404 and answer["lang"] == "fr"
    assert "Page introuvable" in answer["body"]
    shipped, compiled = answer["dataclasses"]
    assert shipped >= 50 and compiled == 0  # every dataclass the app defined ran the package's code
    loaded = [line for line in result.stderr.splitlines() if "code object from" in line and str(task) in line]
    assert any("chalicelib/core/__pycache__/models" in line for line in loaded)
    assert any("jinja2/__pycache__" in line for line in loaded)
    assert any("compiled-templates/tmpl_" in line for line in loaded)  # the page, not its source


def test_the_studio_function_runs_from_the_package_and_can_check_a_cognito_signature(
    package: Path, tmp_path: Path
) -> None:
    """The studio's own imports (Starlette, Mangum, PyJWT with cryptography's compiled RSA) resolve
    from the zip alone, and an RS256 signature checks, after the unused Powertools utilities and
    cffi's build-time parts were pruned."""
    names = set(zipfile.ZipFile(package).namelist())
    assert not any(n.startswith("aws_lambda_powertools/utilities/parser/") for n in names)
    task, pythonpath = unpack_like_lambda(package, tmp_path)
    script = (
        "import json, app, jwt, lambda_event as e, jwt.algorithms as a\n"
        "from cryptography.hazmat.primitives.asymmetric import rsa\n"
        "r = app.studio(e.rest_event('/studio/login'), e.LambdaContext())\n"
        "k = rsa.generate_private_key(public_exponent=65537, key_size=2048)\n"
        "t = jwt.encode({'sub': 'maya'}, k, algorithm='RS256')\n"
        "ok = jwt.decode(t, k.public_key(), algorithms=['RS256'])['sub'] == 'maya'\n"
        "print(json.dumps({'status': r['statusCode'], 'crypto': a.has_crypto, 'verified': ok, 'body': r['body']}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script],
        cwd=task,
        env={"PYTHONPATH": pythonpath, "DROPFRONT_SECRET_KEYS": "k", "AWS_DEFAULT_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200 and answer["crypto"] is True and answer["verified"] is True
    assert "Studio token" in answer["body"]


def test_a_broken_chalice_cache_is_deleted_and_a_sound_one_kept(tmp_path: Path) -> None:
    sound, broken = tmp_path / "sound-python3.11.zip", tmp_path / "broken-python3.11.zip"
    for path in (sound, broken):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("babel/locale-data/es.dat", b"x" * 5000)
            archive.writestr("six.py", b"pass\n")
    data = bytearray(broken.read_bytes())
    data[0:4] = b"XXXX"  # the first local header no longer starts with its magic number
    broken.write_bytes(bytes(data))

    discard_broken_caches(tmp_path, now=time.time())
    assert len(list(tmp_path.iterdir())) == 2  # just written: perhaps another build's, still being written

    discard_broken_caches(tmp_path, now=time.time() + 3600)
    assert sorted(p.name for p in tmp_path.iterdir()) == [sound.name]
