"""Marketers' templates in the studio: save a checked draft, publish now or at a time, roll back, and
compare versions. Every saved version is immutable; publishing moves one pointer, conditionally."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.models import iso
from chalicelib.pages.published import (
    CONTEXT_NAMES,
    PAGES,
    effective_version,
    promote_due,
    sandbox,
    shipped_source,
)
from chalicelib.store.templates import PointerMoved, VersionMissing


class TemplateStore(Protocol):
    def make_scheduled_current(self, name: str, version: int, replaces: int | None, at_iso: str) -> bool: ...

    def pointer(self, name: str) -> dict[str, Any] | None: ...

    def version(self, name: str, version: int) -> dict[str, Any] | None: ...

    def versions(self, name: str) -> list[dict[str, Any]]: ...

    def save(self, name: str, source: str, author: str, saved_at: str, note: str) -> int: ...

    def publish(self, name: str, version: int, expected: int | None, by: str, at_iso: str) -> None: ...

    def schedule(self, name: str, version: int, when_iso: str, by: str, at_iso: str) -> None: ...


def checked_name(name: str) -> str:
    if name not in PAGES:
        raise NotFound(f"There is no page template called {name[:40]!r}.", code="template_not_found")
    return name


def normalized(source: str) -> str:
    """Line endings as ``\n``: a browser's textarea sends ``\r\n``, and a one-line edit must not
    diff as every line changed."""
    return source.replace("\r\n", "\n").replace("\r", "\n")


def save_draft(store: TemplateStore, name: str, source: str, author: str, note: str, now: datetime) -> dict[str, Any]:
    """Check the source in the sandbox (syntax, forbidden names, unknown variables, size) and save it
    as the next version; 422 with each problem's line and column if it may not be saved."""
    source = checked_source(name, source)
    version = store.save(name, source, author, iso(now), note)
    return {"template": name, "version": version}


def checked_source(name: str, source: str) -> str:
    """The source with its line endings normalized, once the sandbox finds no problem in it (syntax,
    forbidden names, unknown variables, size); 422 ``template_invalid`` with each problem's line and
    column otherwise."""
    source = normalized(source)
    problems = sandbox("en").check(source, CONTEXT_NAMES[checked_name(name)])
    if problems:
        raise Unprocessable(
            "The template has problems; nothing was saved.",
            code="template_invalid",
            details=[{"line": p.line, "column": p.column, "problem": p.message} for p in problems],
        )
    return source


TrialRender = Callable[[str, int, datetime], list[dict[str, str]]]
"""Renders a version as views would (every drop, every locale); the problems of those that fail."""


def publish(
    store: TemplateStore,
    name: str,
    version: int,
    author: str,
    now: datetime,
    at: datetime | None = None,
    trial: TrialRender | None = None,
) -> dict[str, Any]:
    """Publish ``version`` now, or schedule it for ``at``: only if ``trial`` renders it within the
    sandbox's rules and budget everywhere (422 ``template_over_budget`` with each failure if not)."""
    pointer = store.pointer(checked_name(name)) or {}
    if trial is not None and version != 0 and store.version(name, version) is not None:
        failures = trial(name, version, now)
        if failures:
            raise Unprocessable(
                "This version does not render within the page budget, so it was not published.",
                code="template_over_budget",
                details=failures,
            )
    try:
        if at is not None and at > now:
            store.schedule(name, version, iso(at), author, iso(now))
        else:
            store.publish(name, version, pointer.get("published"), author, iso(now))
    except VersionMissing:
        raise NotFound(f"{name} has no version {version}.", code="version_not_found") from None
    except PointerMoved:
        raise Conflict("Someone published this template a moment ago; reload and try again.", code="moved") from None
    return status(store, name, now)


def roll_back(store: TemplateStore, name: str, author: str, now: datetime, to: int | None = None) -> dict[str, Any]:
    """Publish again the version the current one replaced (a scheduled publish that went live counts;
    the first publish replaced the shipped template, version 0), or ``to``: an earlier version that
    was once published (0, the shipped template, always was)."""
    promote_due(store, now)
    pointer = store.pointer(checked_name(name)) or {}
    previous = pointer.get("previous") if to is None else to
    if previous is None:
        raise Conflict("There is no earlier published version to go back to.", code="nothing_to_roll_back")
    if to is not None and to != pointer.get("previous"):
        stored = store.version(name, to) if to else None
        if to and stored is None:
            raise NotFound(f"{name} has no version {to}.", code="version_not_found")
        was_published = to == 0 or bool(stored and stored.get("published_at"))
        if not was_published or to >= int(pointer.get("published") or 0):
            raise Conflict(
                f"Version {to} is not an earlier published version; publish it instead.", code="not_published_before"
            )
    try:
        store.publish(name, int(previous), pointer.get("published"), author, iso(now))
    except PointerMoved:
        raise Conflict("Someone published this template a moment ago; reload and try again.", code="moved") from None
    return status(store, name, now)


def status(store: TemplateStore, name: str, now: datetime) -> dict[str, Any]:
    promote_due(store, now)
    pointer = store.pointer(checked_name(name)) or {}
    return {
        "template": name,
        "live": effective_version(pointer, now),
        "published": pointer.get("published"),
        "previous": pointer.get("previous"),
        "scheduled": pointer.get("scheduled"),
        "latest": pointer.get("latest"),
        "versions": store.versions(name),
    }


def _sources(store: TemplateStore, name: str, old: int, new: int) -> tuple[str, str]:
    """Two saved versions' sources (0 is the shipped template), line endings normalized (versions
    saved before normalization kept the browser's)."""
    texts = []
    for version in (old, new):
        if version == 0:
            texts.append(shipped_source(checked_name(name)))
            continue
        stored = store.version(checked_name(name), version)
        if stored is None:
            raise NotFound(f"{name} has no version {version}.", code="version_not_found")
        texts.append(normalized(stored["source"]))
    return texts[0], texts[1]


def diff(store: TemplateStore, name: str, old: int, new: int) -> str:
    """A unified diff between two saved versions (0 is the shipped template)."""
    before, after = _sources(store, name, old, new)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"{name} v{old}", f"{name} v{new}"
    )
    return "".join(lines)


DiffKind = Literal["same", "changed", "removed", "added", "skipped"]


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side diff: a line of each version (number and text, None where that side
    has none), how it changed, or a run of ``skipped`` unchanged lines left out."""

    kind: DiffKind
    old_line: int | None = None
    old_text: str | None = None
    new_line: int | None = None
    new_text: str | None = None
    skipped: int = 0


CONTEXT_LINES = 3


def side_by_side(before: str, after: str, context: int = CONTEXT_LINES) -> list[DiffRow]:
    """The two texts line against line, changes marked, runs of unchanged lines beyond ``context``
    on either side of a change folded into one ``skipped`` row."""
    old, new = before.splitlines(), after.splitlines()
    rows: list[DiffRow] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(context):
        first = group[0]
        if not rows and (first[1] or first[3]):
            rows.append(DiffRow("skipped", skipped=first[1]))
        elif rows:
            rows.append(DiffRow("skipped", skipped=first[1] - _last_old(rows)))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    DiffRow("same", i + 1, old[i], j + 1, new[j])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                left = (i + 1, old[i]) if i < i2 else (None, None)
                right = (j + 1, new[j]) if j < j2 else (None, None)
                kind: DiffKind = "changed" if left[0] and right[0] else "removed" if left[0] else "added"
                rows.append(DiffRow(kind, left[0], left[1], right[0], right[1]))
    if rows and _last_old(rows) < len(old):
        rows.append(DiffRow("skipped", skipped=len(old) - _last_old(rows)))
    return [row for row in rows if row.kind != "skipped" or row.skipped]


def _last_old(rows: list[DiffRow]) -> int:
    return next((row.old_line for row in reversed(rows) if row.old_line is not None), 0)


def diff_rows(store: TemplateStore, name: str, old: int, new: int) -> list[DiffRow]:
    """Two saved versions side by side (0 is the shipped template)."""
    return side_by_side(*_sources(store, name, old, new))


def publish_shipped_if_empty(store: TemplateStore, author: str, now: datetime) -> list[str]:
    """After a deploy: each page whose store holds no version gets the shipped template saved as its
    first version and published, so the studio starts from what shoppers see. Returns the pages
    published; a store that already has versions is left alone."""
    published = []
    for name in PAGES:
        if store.versions(name):
            continue
        saved = save_draft(store, name, shipped_source(name), author, "the shipped template", now)
        publish(store, name, saved["version"], author, now)
        published.append(name)
    return published
