"""The code of the methods dataclasses generate, compiled when the package is built.

Python makes each dataclass's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and frozen
``__setattr__`` by writing their source text and compiling it as the class is defined: about 1 ms a
class on this machine, four fifths of it the compilation, and the shopper's cold start defines 60
(decision 105). The deployment package carries that code compiled, as it carries every module's
``.pyc``, and ``install`` has the dataclasses module run it. The lookup is by the exact text, so what
runs is what Python itself would have compiled; a text the package lacks (a class changed after the
build, another patch release's dataclasses) is compiled as before, and a file made by another Python
version (another magic number) is not read at all.
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib.util
import marshal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType
from typing import Any

SHIPPED = Path(__file__).with_name(f"dataclass-code.{sys.implementation.cache_tag}.bin")
"""Where the package carries the code (``devtools.package`` writes it; a checkout has none)."""


def _compile(source: str) -> CodeType:
    return compile(source, "<string>", "exec")  # the file name dataclasses' own exec gives it


class ShippedCode:
    """Stands in for ``exec`` in the dataclasses module (which looks the name up in its own globals
    before the builtins): runs the shipped code for a text it has, compiles any other."""

    def __init__(self, codes: dict[str, bytes]) -> None:
        self.codes = codes
        self.compiled = 0
        """Texts that were not shipped and were compiled here: 0 when the package is current."""

    def __call__(self, source: str, globals_: dict[str, Any] | None = None, locals_: Any = None) -> None:
        shipped = self.codes.get(source)
        if shipped is None:
            self.compiled += 1
            code = _compile(source)
        else:
            code = marshal.loads(shipped)  # noqa: S302  the package's own file, trusted as its .pyc are
        builtins.exec(code, globals_, locals_)  # noqa: S102  dataclasses' own text, or its compiled code


def load(path: Path = SHIPPED) -> dict[str, bytes]:
    """The shipped code by source text, each still marshalled (unmarshalled when its class is
    defined); empty if there is none, or it was made by another Python."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    magic = importlib.util.MAGIC_NUMBER
    if not data.startswith(magic):
        return {}
    try:
        codes = marshal.loads(data[len(magic) :])  # noqa: S302  the package's own file
    except (EOFError, ValueError, TypeError):
        return {}
    return codes if isinstance(codes, dict) else {}


def install(path: Path = SHIPPED) -> ShippedCode | None:
    """Have every dataclass defined from now on use the shipped code (nothing changes without it, or
    while something already stands in: a recording, or an earlier install)."""
    if "exec" in vars(dataclasses):
        return None
    codes = load(path)
    if not codes:
        return None
    shipped = ShippedCode(codes)
    vars(dataclasses)["exec"] = shipped
    return shipped


@contextmanager
def recording() -> Iterator[dict[str, CodeType]]:
    """Every text the dataclasses defined inside compile, with its code: what ``write`` ships."""
    codes: dict[str, CodeType] = {}

    def compile_and_run(source: str, globals_: dict[str, Any] | None = None, locals_: Any = None) -> None:
        code = codes[source] = _compile(source)
        builtins.exec(code, globals_, locals_)  # noqa: S102  dataclasses' own text

    vars(dataclasses)["exec"] = compile_and_run
    try:
        yield codes
    finally:
        vars(dataclasses).pop("exec", None)


def write(codes: dict[str, CodeType], path: Path = SHIPPED) -> None:
    shipped = {text: marshal.dumps(code) for text, code in codes.items()}
    path.write_bytes(importlib.util.MAGIC_NUMBER + marshal.dumps(shipped))
