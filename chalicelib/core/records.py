"""Records: frozen dataclasses whose fields declare their rules once, read two ways.

What people and programs send (the studio's forms, the API, imports) is validated by pydantic
(``validate``), with its field-by-field errors and its coercions. What our own validated writes
stored, and a shopper page's query string, are read by ``read``: it checks the same types and
rules (``Rule``) without importing pydantic, so a shopper's cold start does not pay pydantic's
import, its classes and its validator builds (decision 103). Both run a record's ``__post_init__``,
where rules across fields live.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from functools import cache, partial
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args, get_origin

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, TypeAdapter
    from pydantic_core import CoreSchema

type Check = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """A record's base: fields a record does not have are refused, by pydantic and by ``read``."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """A field's constraints, in ``Annotated[...]``: pydantic reads them as its own ``Field``
    constraints and validators (``__get_pydantic_core_schema__``); ``read`` checks them itself.
    ``before`` checks run on input only (they shape what a person sends: JSON's ``1.0``, an ISO
    string rather than a number); ``after`` checks run on both."""

    pattern: str | None = None
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    strict: bool | None = None
    before: Check | None = None
    after: tuple[Check, ...] = ()

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic import AfterValidator, BeforeValidator, Field

        limits = {
            name: getattr(self, name)
            for name in ("pattern", "ge", "le", "min_length", "max_length", "strict")
            if getattr(self, name) is not None
        }
        metadata: list[object] = [BeforeValidator(self.before)] if self.before else []
        metadata += [Field(**limits), *(AfterValidator(check) for check in self.after)]
        return handler.generate_schema(Annotated[source, *metadata])

    def check(self, value: Any) -> Any:
        """``value`` if it keeps these rules (``after`` checks may normalise it); ValueError if not."""
        if self.pattern is not None and not _compiled(self.pattern).search(value):
            raise ValueError(f"should match pattern {self.pattern!r}")
        if self.ge is not None and value < self.ge:
            raise ValueError(f"should be at least {self.ge}")
        if self.le is not None and value > self.le:
            raise ValueError(f"should be at most {self.le}")
        if self.min_length is not None and len(value) < self.min_length:
            raise ValueError(f"should have at least {self.min_length} items")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"should have at most {self.max_length} items")
        for after in self.after:
            value = after(value)
        return value


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` as pydantic's engine reads it: a final ``$`` is the end of the text (Python's
    would also match before a final newline, letting ``"fr\\n"`` through)."""
    if pattern.endswith("$") and not pattern.endswith(r"\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


class RecordError(ValueError):
    """What ``read`` refused: the field's path (``markets.0.currency``) and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'record'}: {problem}")
        self.field = field
        self.problem = problem


def read[R](record: type[R], data: Any) -> R:
    """``data`` (plain values, as JSON or DynamoDB items hold them) as ``record``, checked against
    its types and rules; ``RecordError`` naming the first field that breaks one."""
    return _reader(record)(data)  # type: ignore[no-any-return, arg-type]


def prepare(*kinds: type[Any]) -> None:
    """Build the readers of ``kinds`` and of the records they hold now (SnapStart's init phase)."""
    for kind in kinds:
        _reader(kind)  # type: ignore[arg-type]


def _path(*parts: object) -> str:
    return ".".join(str(part) for part in parts if part != "")


def _at(field: object, reader: Check, value: Any) -> Any:
    """``reader(value)``, a refusal named by its path from ``field``."""
    try:
        return reader(value)
    except RecordError as error:
        raise RecordError(_path(field, error.field), error.problem) from None
    except (ValueError, TypeError) as error:
        raise RecordError(str(field), str(error)) from None


@cache
def _reader(kind: Any) -> Check:
    """A function that reads a value of type ``kind``: built once per type, then only checks."""
    origin, args = get_origin(kind), get_args(kind)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _record_reader(kind)
    if origin is Annotated:
        inner, rules = _reader(args[0]), tuple(m for m in args[1:] if isinstance(m, Rule))

        def annotated(value: Any) -> Any:
            value = inner(value)
            for rule in rules:
                value = rule.check(value)
            return value

        return annotated
    if origin in (types.UnionType, typing.Union):
        return _union_reader(args)
    if origin is Literal:
        allowed = frozenset(args)

        def literal(value: Any) -> Any:
            if value not in allowed:
                raise ValueError(f"should be one of {sorted(map(str, args))}")
            return value

        return literal
    if origin is tuple:
        return _tuple_reader(args)
    if origin is dict:
        key, item = _reader(args[0]), _reader(args[1])

        def mapping(value: Any) -> Any:
            if not isinstance(value, dict):
                raise ValueError("should be an object")
            return {key(k): _at(k, item, v) for k, v in value.items()}

        return mapping
    if kind is type(None):
        return _exactly(type(None), "null")
    if kind in (datetime, date, time):
        return _iso(kind)
    if kind is float:
        return _number
    if kind is int:
        return _integer
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    if kind in (str, bool):
        return _exactly(kind, kind.__name__)
    raise TypeError(f"records cannot hold {kind!r}")


def _field_types(record: type[Any]) -> dict[str, Any]:
    """Each field's type: its annotation, written as text (our modules postpone them), evaluated in
    the module of the class that declares the field, once per text there. ``typing.get_type_hints``
    gives the same for a record but evaluates every annotation of every class in its MRO anew, the
    base's ``ClassVar`` once per record: 7.5 → 4.9 ms of a cold start's first landing page."""
    names = {field.name for field in dataclasses.fields(record)}
    found: dict[str, Any] = {}
    for klass in reversed(record.__mro__):  # a subclass's annotation of a field overrides its base's
        for name, annotation in inspect.get_annotations(klass).items():
            if name in names:
                found[name] = _evaluated(klass.__module__, annotation) if isinstance(annotation, str) else annotation
    return found


@cache
def _evaluated(module: str, annotation: str) -> Any:
    return eval(annotation, vars(sys.modules[module]))  # noqa: S307 - an annotation of our own code


def _record_reader(record: type[Any]) -> Check:
    hints = _field_types(record)
    fields = {field.name: partial(_at, field.name, _reader(hints[field.name])) for field in dataclasses.fields(record)}
    ignore_extra = getattr(record, "__pydantic_config__", {}).get("extra") == "ignore"

    def instance(value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"should be a {record.__name__} object")
        given = {}
        for name, raw in value.items():
            reader = fields.get(name)
            if reader is not None:
                given[name] = reader(raw)
            elif not ignore_extra:
                raise RecordError(name, "is not a field of this record")
        try:
            return record(**given)
        except (TypeError, ValueError) as error:  # a required field is missing, a rule across fields
            raise RecordError("", str(error)) from None

    return instance


def _union_reader(args: tuple[Any, ...]) -> Check:
    readers = [_reader(arg) for arg in args if arg is not type(None)]
    optional = type(None) in args

    def union(value: Any) -> Any:
        if value is None and optional:
            return None
        problems = []
        for reader in readers:
            try:
                return reader(value)
            except ValueError as error:
                problems.append(str(error))
        raise ValueError(" or ".join(problems))

    return union


def _tuple_reader(args: tuple[Any, ...]) -> Check:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _reader(args[0])

        def sequence(value: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                raise ValueError("should be a list")
            return tuple(_at(index, item, v) for index, v in enumerate(value))

        return sequence
    items = [_reader(arg) for arg in args]

    def fixed(value: Any) -> Any:
        if not isinstance(value, (list, tuple)) or len(value) != len(items):
            raise ValueError(f"should be a list of {len(items)}")
        return tuple(_at(index, reader, v) for index, (reader, v) in enumerate(zip(items, value, strict=True)))

    return fixed


def _exactly(kind: type, name: str) -> Check:
    def exactly(value: Any) -> Any:
        if type(value) is not kind:
            raise ValueError(f"should be {name}")
        return value

    return exactly


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise ValueError("should be a whole number")
    return value


def _number(value: Any) -> float:
    """DynamoDB gives a whole number back as an int (``48.0`` is stored as ``48``)."""
    if type(value) not in (int, float):
        raise ValueError("should be a number")
    return float(value)


def _iso(kind: type[datetime] | type[date] | type[time]) -> Check:
    def iso(value: Any) -> Any:
        if type(value) is kind:
            return value
        if not isinstance(value, str):
            raise ValueError(f"should be an ISO 8601 {kind.__name__}")
        return kind.fromisoformat(value)

    return iso


# --- pydantic, where input is validated ------------------------------------------------------


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(record: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(record)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[record] = TypeAdapter(record)
    return adapter


def validate[R](record: type[R], data: Any) -> R:
    """``data`` as ``record``, validated by pydantic (``pydantic.ValidationError`` lists each problem)."""
    return _adapter(record).validate_python(data)  # type: ignore[no-any-return]


def dump(value: Any, **options: Any) -> Any:
    """A record as plain values (``mode="json"`` for JSON's types), as pydantic writes it."""
    return _adapter(type(value)).dump_python(value, **options)


def dump_json(value: Any) -> str:
    return _adapter(type(value)).dump_json(value).decode()


def names(record: type[Any]) -> tuple[str, ...]:
    """A record's field names, in order."""
    return tuple(field.name for field in dataclasses.fields(record))
