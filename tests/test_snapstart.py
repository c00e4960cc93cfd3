"""SnapStart's hooks, called as the runtime calls them: before the snapshot, the shopper function has
loaded what a first request would; each copy restored from it draws its own randomness and makes its
own DynamoDB client and keys. Two copies restored from one snapshot are played by starting twice
from one random state (what a restore gives: the snapshot's memory)."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import snapshot_restore_py

import app  # noqa: F401  # registers the hooks, as the function's init does
from chalicelib.config import PROJECT_ROOT as ROOT
from chalicelib.pages.environment import environment
from chalicelib.store import client


def run(hooks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]) -> None:
    for hook, args, kwargs in hooks:
        hook(*args, **kwargs)


@pytest.fixture
def warmed() -> Iterator[None]:
    client.reset_client()
    environment.cache_clear()
    run(snapshot_restore_py.get_before_snapshot())
    yield
    client.reset_client()


def test_the_shopper_function_registers_one_hook_of_each_kind() -> None:
    assert [hook.__name__ for hook, _, _ in snapshot_restore_py.get_before_snapshot()] == ["warm"]
    assert [hook.__name__ for hook, _, _ in snapshot_restore_py.get_after_restore()] == ["renew"]


def test_before_the_snapshot_the_pages_and_the_client_are_loaded(warmed: None) -> None:
    assert client._client is not None  # built, though no request was made
    assert environment.cache_info().currsize == 6  # a compiled environment per UI locale
    cache = environment("ar").cache
    assert cache is not None and "landing.html" in {page.name for page in cache.values()}  # compiled, held


def test_after_a_restore_the_client_is_made_anew(warmed: None) -> None:
    warmed_client = client._client
    assert warmed_client is not None
    run(snapshot_restore_py.get_after_restore())
    assert client._client is None
    renewed = client.dynamodb()
    assert renewed is not warmed_client
    assert renewed._loader is warmed_client._loader  # the service models parsed once, at init


def _two_copies(renew: bool) -> tuple[float, float]:
    """Two copies restored from one snapshot: each starts from the random state the snapshot held
    (what a restore gives), runs the after-restore hooks if ``renew``, and draws a number."""
    snapshot = random.getstate()
    draws = []
    for _ in range(2):
        random.setstate(snapshot)
        if renew:
            run(snapshot_restore_py.get_after_restore())
        draws.append(random.random())
    return draws[0], draws[1]


def test_each_restored_copy_draws_its_own_randomness(warmed: None) -> None:
    same, _ = _two_copies(renew=False)
    assert same == _  # without the hook, copies of one snapshot draw the same numbers
    first, second = _two_copies(renew=True)
    assert first != second


def test_record_readers_and_the_heap_are_made_ready_before_the_snapshot() -> None:
    """The shopper's import loads no pydantic (its records are read by ``records.read``); the init
    phase builds the readers of what shopper pages read, so no restored copy builds one, and what the
    imports and the warming loaded is frozen out of the garbage collector's scans. A fresh process."""
    script = (
        "import gc, sys, app, snapshot_restore_py\n"
        "assert gc.isenabled() and gc.get_freeze_count() > 0\n"  # the imports' objects, out of collections
        "assert not [m for m in sys.modules if m.startswith('pydantic')]\n"
        "frozen = gc.get_freeze_count()\n"
        "from chalicelib.core import records\n"
        "before = records._reader.cache_info().currsize\n"
        "for hook, args, kwargs in snapshot_restore_py.get_before_snapshot():\n"
        "    hook(*args, **kwargs)\n"
        "assert gc.get_freeze_count() > frozen\n"  # and what warming loaded
        "print(before, records._reader.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    before, after = map(int, done.stdout.split())
    assert before == 0 and after > 40  # the catalog's, the policy's and the page queries' types
