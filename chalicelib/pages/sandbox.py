"""Marketers' templates: checked on save and rendered only in an immutable sandbox, with limits.

The shipped templates are ours and render in the ordinary environment. A marketer's version renders
here: autoescape always on and no ``|safe``; an allow-list of filters, none of which calls its
arguments; and an allow-list loader, so a template can include only the partials we name.

Every render is metered, so any template costs at most its budget: the compiled tree is rewritten so
that every loop iteration ticks the budget (iterations and the render thread's CPU time), and every value an
expression builds (concatenation, a filter's or a call's result, arithmetic, a join, a translation)
is sized before or as it is made; the output is counted chunk by chunk. A template that breaks the
budget stops with ``RenderRefused`` within one step of the limit. Pure: no I/O.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import DictLoader, Template, TemplateSyntaxError, nodes, pass_eval_context
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.filters import do_join
from jinja2.meta import find_undeclared_variables
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from chalicelib.pages.environment import JINJA_OPTIONS

MAX_SOURCE_BYTES = 64 * 1024
MAX_OUTPUT_CHARS = 256 * 1024
RENDER_SECONDS = 0.25  # of the render thread's CPU: time spent waiting for a busy core is not the template's
MAX_ITERATIONS = 20_000  # every range() made and every loop iteration of one render, summed
MAX_EXPONENT = 64
MAX_NUMBER = 10**30
MAX_NESTING = 40

SAFE_FILTERS = frozenset(
    {
        "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "int", "join", "last",
        "length", "lower", "round", "striptags", "title", "tojson", "trim", "truncate", "upper",
        "urlencode", "wordcount",
    }
)  # fmt: skip
"""Filters that only transform the value in front of them (none calls an argument, none can grow a
value beyond its input: no ``safe``, ``attr``, ``map``, ``format``, ``center``, ``indent`` or ``replace``)."""

SAFE_GLOBALS = frozenset({"_", "range", "dict", "namespace", "cycler", "joiner"})  # "_": the i18n alias


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    column: int
    message: str


class TemplateRejected(Exception):
    """A template that may not be saved: each problem with its line and column."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.line}:{p.column} {p.message}" for p in self.problems))


class RenderRefused(Exception):
    """A render that broke the sandbox's rules or limits; the caller serves the last good version."""


@dataclass
class _Budget:
    deadline: float
    iterations: int = 0
    output: int = 0

    def check_time(self) -> None:
        if time.thread_time() > self.deadline:
            raise SecurityError(f"the render took more than {RENDER_SECONDS} s of CPU")

    def iterate(self, count: int = 1) -> None:
        self.iterations += count
        if self.iterations > MAX_ITERATIONS:
            raise SecurityError(f"more than {MAX_ITERATIONS} loop iterations")
        self.check_time()

    def admit(self, size: int) -> None:
        """Refuse a value of ``size`` characters before it is built, if a page could not hold it."""
        if size > MAX_OUTPUT_CHARS:
            raise SecurityError("that would build a value larger than a page may be")
        self.check_time()


_budget: ContextVar[_Budget | None] = ContextVar("sandbox_budget", default=None)


def _current() -> _Budget:
    budget = _budget.get()
    if budget is None:
        raise SecurityError("marketer templates render only through Sandbox.render")
    return budget


def _budgeted_range(*args: int) -> range:
    span = range(*args)
    _current().iterate(len(span))
    return span


def _size(value: Any) -> int:
    """Characters a value stands for: a string's length; a sequence's items, strings counted whole."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, (list, tuple)):
        return len(value) + sum(len(item) for item in value if isinstance(item, (str, bytes)))
    return 0


def _metered_loop(iterable: Any) -> Iterator[Any]:
    """What every ``{% for %}`` iterates over: each iteration ticks the budget."""
    budget = _current()
    for item in iterable:
        budget.iterate()
        yield item


def _metered_value(value: Any) -> Any:
    """What every filter, call and concatenation's result passes through."""
    budget = _current()
    budget.admit(_size(value))
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        raise SecurityError("that number is too large for a page")
    return value


def _metered_concat(parts: list[Any]) -> Any:
    """``a ~ b ~ c``: sized before it is joined (each part as the page would print it)."""
    _current().admit(sum(len(part) if isinstance(part, str) else len(str(part)) for part in parts))
    return markup_join(parts)


@pass_eval_context
def _metered_join(eval_context: EvalContext, value: Any, separator: str = "", attribute: Any = None) -> str:
    """Jinja's ``join``, sized before it joins (by ``attribute`` is not offered: it reaches into items)."""
    if attribute is not None:
        raise SecurityError("join by attribute is not available in templates")
    items = list(_metered_loop(value))
    _current().admit(sum(_size(str(item)) for item in items) + len(separator) * max(len(items) - 1, 0))
    joined: str = do_join(eval_context, items, separator)
    return joined


def _plain(value: Any) -> Any:
    """A filter's input: markup (a captured block, an include) as plain text, so no filter, index or
    method can cut a piece of our HTML (a ``<``, a script's nonce) out of it and print it raw."""
    return str(value) if isinstance(value, Markup) else value


METER_LOOP, METER_VALUE, METER_CONCAT, PLAIN = "\x00loop", "\x00value", "\x00concat", "\x00plain"
"""Filter names the rewritten tree uses; no template can spell them."""


def _filter(node: nodes.Node, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _Meter(NodeTransformer):
    """Rewrites a parsed template so its loops and the values it builds pass through the budget."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _filter(node.iter, METER_LOOP)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _filter(nodes.List(node.nodes, lineno=node.lineno), METER_CONCAT)

    def visit_Filter(self, node: nodes.Filter) -> nodes.Node:
        self.generic_visit(node)
        if node.node is None or node.name.startswith("\x00"):  # a {% filter %} block's, or ours
            return node
        node.node = _filter(node.node, PLAIN)
        return _filter(node, METER_VALUE)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        """``x[…]``: a slice compiles to a plain subscript, so markup is made plain here."""
        self.generic_visit(node)
        node.node = _filter(node.node, PLAIN)
        return node

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        self.generic_visit(node)
        return _filter(node, METER_VALUE)

    def visit_CallBlock(self, node: nodes.CallBlock) -> nodes.Node:
        """``{% call %}`` needs its call as a call: its arguments and body are metered, not the call
        (its output is, as it is written)."""
        call = node.call
        self.generic_visit(node)
        if isinstance(node.call, nodes.Filter) and node.call.name == METER_VALUE:
            node.call = call
        return node


SCRIPTING = re.compile(
    r"<\s*script\b(?![^>]*\btype\s*=\s*[\"']application/ld\+json[\"']\s*>)|"
    r"<\s*/?\s*(iframe|frame|object|embed|base|applet)\b|<\s*meta[^>]*http-equiv|\son[a-z]+\s*=|"
    r"javascript\s*:|vbscript\s*:|\bsrcdoc\s*=",
    re.IGNORECASE,
)
"""What a marketer's HTML may not contain: script and the elements that carry it, event handlers,
script URLs (a JSON-LD data block is allowed: browsers never run it, and ``tojson`` escapes what goes
in). Checked on the template's literal text joined up (so ``<scr{{ '' }}ipt>`` is caught)."""


def _scripting_problems(env: ImmutableSandboxedEnvironment, source: str) -> list[Problem]:
    """Where a template's HTML could run script: literal scripting, or an expression printed where
    it would become a tag's name or an attribute (outside a quoted value), where escaping cannot help."""
    problems: list[Problem] = []
    literal: list[str] = []
    in_tag, quote = False, ""
    for line, kind, value in env.lex(source):
        if kind == "data":
            literal.append(value)
            for char in value:
                if quote:
                    quote = "" if char == quote else quote
                elif in_tag:
                    quote = char if char in "\"'" else ""
                    in_tag = char != ">"
                else:
                    in_tag = char == "<"
        elif kind == "variable_begin" and in_tag and not quote:
            name = re.search(r"<\s*/?\s*$", "".join(literal))
            where = "a tag's name" if name else "an attribute"
            problems.append(Problem(line, 1, f"an expression cannot print {where}: put it inside a quoted value"))
    found = SCRIPTING.search("".join(literal))
    if found:
        text = found.group(0).strip()
        at = source.lower().find(text.lower())  # where it stands whole; a split one is reported at 1:1
        line, column = (source.count("\n", 0, at) + 1, at - source.rfind("\n", 0, at)) if at >= 0 else (1, 1)
        problems.append(Problem(line, column, f"templates cannot run script ({text!r} is not allowed)"))
    return problems


DANGEROUS_URL = re.compile(r"^[\s\x00-\x1f]*(javascript|vbscript|data)[\s\x00-\x1f]*:", re.IGNORECASE)


def _inert(value: Any) -> Any:
    """Every ``{{ … }}`` value passes here: one that would be a script URL becomes ``#``, wherever a
    marketer put it (``href``, ``src``, ``action``). The CSP blocks such URLs as well."""
    if isinstance(value, str) and DANGEROUS_URL.match(value):
        return "#"
    return value


def _too_big(value: Any) -> bool:
    if isinstance(value, (str, bytes, list, tuple)):
        return len(value) > MAX_OUTPUT_CHARS
    return isinstance(value, int) and abs(value) > MAX_NUMBER


class MarketerEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with arithmetic and every call and attribute inside the budget."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _current().check_time()
        if operator == "%" and isinstance(left, str):
            raise SecurityError("printf-style formatting is not available in templates")
        if operator == "**" and (not isinstance(right, (int, float)) or abs(right) > MAX_EXPONENT):
            raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")
        if operator == "*" and isinstance(left, (str, list, tuple)) != isinstance(right, (str, list, tuple)):
            count, sequence = (right, left) if isinstance(left, (str, list, tuple)) else (left, right)
            if isinstance(count, int):
                _current().admit(_size(sequence) * count)
        if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            _current().admit(_size(left) + _size(right))
        result = super().call_binop(context, operator, left, right)
        if _too_big(result):
            raise SecurityError("that would build a value larger than a page may be")
        return result

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        metered: nodes.Template = _Meter().visit(tree)
        return metered

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _current().check_time()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _current().check_time()
        return super().getattr(_plain(obj), attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _current().check_time()
        return super().getitem(_plain(obj), argument)


def _column(source: str, line: int, needle: str | None) -> int:
    """1-based column of ``needle`` on ``line`` (1 when it can't be found)."""
    lines = source.splitlines()
    if not needle or not 1 <= line <= len(lines):
        return 1
    found = re.search(rf"(?<![\w.]){re.escape(needle)}(?!\w)", lines[line - 1]) or re.search(
        re.escape(needle), lines[line - 1]
    )
    return found.start() + 1 if found else 1


_BLOCKS = (nodes.If, nodes.For, nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.With, nodes.Block)


def _block_depth(node: nodes.Node) -> int:
    """How deeply block statements (if, for, macro, call, filter, with, block) nest under ``node``."""
    inner = max((_block_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + 1 if isinstance(node, _BLOCKS) else inner


class Sandbox:
    """One locale's sandbox: the partials it may include, the filters it adds, its gettext."""

    def __init__(
        self,
        partials: Mapping[str, str],
        filters: Mapping[str, Callable[..., Any]] | None = None,
        gettext: Any = None,
    ) -> None:
        env = MarketerEnvironment(loader=DictLoader(dict(partials)), autoescape=True, finalize=_inert, **JINJA_OPTIONS)
        env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
        env.filters.update(filters or {})
        env.filters.update(
            {
                "join": _metered_join,
                METER_LOOP: _metered_loop,
                METER_VALUE: _metered_value,
                METER_CONCAT: _metered_concat,
                PLAIN: _plain,
            }
        )
        env.globals = {name: env.globals[name] for name in SAFE_GLOBALS if name in env.globals}
        env.globals["range"] = _budgeted_range
        if gettext is not None:
            env.install_gettext_translations(gettext, newstyle=True)  # type: ignore[attr-defined]
            for name in ("gettext", "_", "ngettext"):
                env.globals[name] = _metered_translation(cast(Callable[..., str], env.globals[name]))
        self.env = env

    def filter_names(self) -> list[str]:
        """The filters a marketer may use (not the meter's own, which the compiler inserts)."""
        internal = {METER_LOOP, METER_VALUE, METER_CONCAT, PLAIN}
        return sorted(name for name in self.env.filters if name not in internal)

    # --- on save -------------------------------------------------------------------------------

    def check(self, source: str, context_names: Iterable[str]) -> tuple[Problem, ...]:
        """Every reason this source may not be saved, with line and column: its size, its syntax,
        names starting with ``_``, nesting deeper than the limit, and variables the page's context
        does not provide."""
        if len(source.encode()) > MAX_SOURCE_BYTES:
            return (Problem(1, 1, f"the template is larger than {MAX_SOURCE_BYTES // 1024} KB"),)
        try:
            tree = self.env.parse(source)
            undeclared = find_undeclared_variables(tree)  # compiles: unknown filters and tests fail here
        except TemplateSyntaxError as error:
            quoted = re.search(r"'([^']+)'", error.message or "")
            line = error.lineno or 1
            return (Problem(line, _column(source, line, quoted[1] if quoted else None), error.message or "syntax"),)
        except RecursionError:
            return (Problem(1, 1, "the template is nested too deeply"),)
        problems = _scripting_problems(self.env, source)
        if _block_depth(tree) > MAX_NESTING:
            problems.append(Problem(1, 1, f"blocks are nested more than {MAX_NESTING} deep"))
        for node in tree.find_all((nodes.Getattr, nodes.Name, nodes.Const)):
            text = getattr(node, "attr", None) or getattr(node, "name", None)
            if isinstance(node, nodes.Const) and isinstance(node.value, str) and "__" in node.value:
                text = node.value
            if isinstance(text, str) and ((text.startswith("_") and text != "_") or "__" in text):
                problems.append(Problem(node.lineno, _column(source, node.lineno, text), f"{text!r} is not allowed"))
        assigned = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "store"}
        known = set(context_names) | set(self.env.globals) | assigned | {"_", "gettext", "ngettext", "loop", "super"}
        for name in sorted(undeclared - known):
            line = next((n.lineno for n in tree.find_all(nodes.Name) if n.name == name), 1)
            problems.append(Problem(line, _column(source, line, name), f"unknown variable {name!r}"))
        return tuple(problems)

    def compile(self, source: str, context_names: Iterable[str]) -> Template:
        """The compiled template, or ``TemplateRejected`` with every problem."""
        problems = self.check(source, context_names)
        if problems:
            raise TemplateRejected(problems)
        try:
            return self.env.from_string(source)
        except (TemplateError, RecursionError) as error:
            raise TemplateRejected([Problem(1, 1, str(error))]) from None

    # --- on render -----------------------------------------------------------------------------

    def render(self, template: Template, context: Mapping[str, Any]) -> str:
        """The page, or ``RenderRefused`` if it broke a rule or a limit (time, loops, size, depth)."""
        chunks: list[str] = []
        with _budgeted() as budget:
            try:
                for chunk in template.generate(dict(context)):
                    budget.output += len(chunk)
                    if budget.output > MAX_OUTPUT_CHARS:
                        raise SecurityError(f"the page would be longer than {MAX_OUTPUT_CHARS} characters")
                    budget.check_time()
                    chunks.append(chunk)
            except (TemplateError, RecursionError, OverflowError, MemoryError, TypeError, ValueError) as error:
                raise RenderRefused(f"{type(error).__name__}: {error}") from None
        return "".join(chunks)


def _metered_translation(translate: Callable[..., str]) -> Callable[..., str]:
    """A translation whose ``%(name)s`` placeholders could repeat a large value: sized first (the
    message's length plus each value once per placeholder that names it)."""

    def metered(*args: Any, **variables: Any) -> str:
        message = next((arg for arg in args if isinstance(arg, str)), "")
        _current().admit(
            len(message) + sum(message.count(f"%({key})") * len(str(value)) for key, value in variables.items())
        )
        return translate(*args, **variables)

    metered.__dict__.update(translate.__dict__)  # jinja's pass_context marker on the original
    return metered


@contextmanager
def _budgeted() -> Iterator[_Budget]:
    budget = _Budget(time.thread_time() + RENDER_SECONDS)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)
