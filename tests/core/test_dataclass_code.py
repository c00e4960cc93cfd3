"""The dataclasses' methods the package ships compiled: used for the texts it has, and only those."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import CodeType

import pytest

from chalicelib.core import dataclass_code


@pytest.fixture(autouse=True)
def _dataclasses_as_python_has_them() -> Iterator[None]:
    """Each test starts from Python's own ``exec`` (an app imported earlier in this process may have
    installed a checkout's file, after ``make bench`` built one) and leaves things as it found them."""
    before = vars(dataclasses).pop("exec", None)
    yield
    vars(dataclasses).pop("exec", None)
    if before is not None:
        vars(dataclasses)["exec"] = before


def define_point() -> type:
    """A new class each call, with the same generated text each time."""

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Point:
        x: int
        y: int = 0
        label: str = "origin"

    return Point


def define_other() -> type:
    @dataclasses.dataclass
    class Other:
        name: str

    return Other


def test_a_class_defined_again_runs_the_shipped_code_and_behaves_as_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with dataclass_code.recording() as codes:
        compiled_point = define_point()
    assert len(codes) == 1
    dataclass_code.write(codes, tmp_path / "code.bin")

    compilations: list[str] = []
    compile_text = dataclass_code._compile

    def counted(source: str) -> CodeType:
        compilations.append(source)
        return compile_text(source)

    monkeypatch.setattr(dataclass_code, "_compile", counted)
    shipped = dataclass_code.install(tmp_path / "code.bin")
    assert shipped is not None

    point = define_point()
    assert compilations == [] and shipped.compiled == 0  # the shipped code ran
    assert point.__init__.__code__.co_code == compiled_point.__init__.__code__.co_code  # type: ignore[misc]
    a, b = point(x=1, y=2), point(x=1, y=2)
    assert a == b and hash(a) == hash(b) and a != point(x=1)
    assert repr(point(x=3)).endswith("Point(x=3, y=0, label='origin')")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.x = 5
    with pytest.raises(TypeError):
        point(1, 2)  # keyword-only, as declared

    other = define_other()  # a text the file does not have is compiled, as Python would
    assert len(compilations) == 1 and shipped.compiled == 1
    assert other(name="n") == other(name="n")


def test_another_pythons_file_or_a_damaged_one_changes_nothing(tmp_path: Path) -> None:
    with dataclass_code.recording() as codes:
        define_point()
    path = tmp_path / "code.bin"
    dataclass_code.write(codes, path)
    magic = importlib.util.MAGIC_NUMBER
    for data in (b"\x00\x00\r\n" + path.read_bytes()[len(magic) :], magic + b"not marshalled", b""):
        path.write_bytes(data)
        assert dataclass_code.install(path) is None
        assert "exec" not in vars(dataclasses)
    assert dataclass_code.install(tmp_path / "absent.bin") is None


def test_installing_while_recording_leaves_the_recording_alone(tmp_path: Path) -> None:
    """The package's build imports the app, which installs whatever file a checkout has: the
    recording must still see every class (a build once wrote an empty file this way)."""
    with dataclass_code.recording() as codes:
        define_point()
    dataclass_code.write(codes, tmp_path / "code.bin")

    with dataclass_code.recording() as recorded:
        assert dataclass_code.install(tmp_path / "code.bin") is None
        define_point()
        define_other()
    assert len(recorded) == 2
    assert "exec" not in vars(dataclasses)
