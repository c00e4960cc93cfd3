"""The studio's JSON API for page templates (``/studio/api/templates``): what a brand's repository or
a script needs to save, preview, publish and roll back without the browser. The same functions as
the editor's forms (``chalicelib.studio.templates``), so the same checks, errors and history.

Auth is a bearer token or the session; a session's writes carry its CSRF token in ``X-CSRF-Token``.
Reading and previewing need the editor or publisher role, saving the editor, publishing and
rolling back the publisher (pop-up staff have no business here). Documented in studio-openapi.yaml.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from chalicelib import wiring
from chalicelib.core.errors import Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import AwareDatetime
from chalicelib.pages.published import PAGES, effective_version, shipped_source
from chalicelib.studio import templates as authoring
from chalicelib.studio.auth import Principal, Role, check_csrf
from chalicelib.studio.preview import PreviewQuery, render_preview, trial_render
from chalicelib.studio.views import preview_csp
from chalicelib.studio.web import MAX_FORM_BYTES, json_answer, principal_of
from chalicelib.web import responses
from chalicelib.web.request import parse_body, parse_query

CSRF_HEADER = "x-csrf-token"
Version = Annotated[int, Field(ge=0, le=1_000_000)]


class SourceBody(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Annotated[str, Field(max_length=MAX_FORM_BYTES)]
    note: Annotated[str, Field(max_length=200)] = ""


class PreviewBody(Model):
    """Who the preview is for, and what: an unsaved ``source``, a saved ``version``, else the draft."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Annotated[str | None, Field(max_length=MAX_FORM_BYTES)] = None
    version: Version | None = None
    locale: str = "en"
    drop: str | None = None
    tier: str | None = None
    cohort: str | None = None
    cell: str | None = None
    popup: str | None = None


class PublishBody(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Version | None = None  # None: the latest saved version
    at: AwareDatetime | None = None  # in the future: scheduled for then


class RollbackBody(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Version | None = None  # None: the version the live one replaced


class DiffQuery(Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    old: Version = Field(alias="from")
    new: Version = Field(alias="to")


def _reader(request: Request) -> Principal:
    principal = principal_of(request)
    principal.require_any(Role.EDITOR, Role.PUBLISHER)
    return principal


def _writer(request: Request, role: Role) -> Principal:
    """A principal with ``role`` whose request, if it came with the session cookie, carries the
    session's CSRF token (a bearer needs none: the browser never sends one by itself)."""
    principal = principal_of(request)
    principal.require(role)
    check_csrf(principal, request.headers.get(CSRF_HEADER))
    return principal


async def _body[Body: BaseModel](request: Request, model: type[Body]) -> Body:
    """The JSON body as ``model``; an empty body is ``{}`` (every field has its default)."""
    raw = await request.body()
    return parse_body(raw or b"{}", model, MAX_FORM_BYTES + 4096)


def _name(request: Request) -> str:
    return authoring.checked_name(request.path_params["name"])


def _summary(name: str, now: datetime) -> dict[str, Any]:
    state = authoring.status(wiring.templates(), name, now)
    return {
        "name": name,
        "published_version": state["live"] or 0,
        "latest_version": state["latest"] or 0,
        "scheduled": state["scheduled"],
    }


async def list_templates(request: Request) -> Response:
    """``[{name, published_version, latest_version, scheduled}]``: every page's template (version 0
    is the shipped one)."""
    _reader(request)
    now = wiring.utcnow()
    return json_answer([_summary(name, now) for name in PAGES])


async def get_template(request: Request) -> Response:
    """``{name, version, state, source}``: the newest saved version that is not live (the draft),
    else the live one (0: the shipped template)."""
    _reader(request)
    name, store = _name(request), wiring.templates()
    state = authoring.status(store, name, wiring.utcnow())
    live, latest = state["live"] or 0, state["latest"] or 0
    version = latest if latest and latest != live else live
    stored = store.version(name, version) if version else None
    source = authoring.normalized(stored["source"]) if stored else shipped_source(name)
    kind: Literal["draft", "published"] = "published" if version == live else "draft"
    return json_answer({"name": name, "version": version, "state": kind, "source": source})


async def put_template(request: Request) -> Response:
    """Save ``source`` as the next version: 201 ``{name, version}``; 200 with the same version when
    it is what the latest version already says (so a repository can push on every commit); 422
    ``template_invalid`` with each problem's line and column, and nothing saved."""
    principal = _writer(request, Role.EDITOR)
    name, store, now = _name(request), wiring.templates(), wiring.utcnow()
    body = await _body(request, SourceBody)
    source = authoring.checked_source(name, body.source)
    latest = int((store.pointer(name) or {}).get("latest") or 0)
    stored = store.version(name, latest) if latest else None
    if stored is not None and authoring.normalized(stored["source"]) == source:
        return json_answer({"name": name, "version": latest})
    saved = authoring.save_draft(store, name, source, principal.subject, body.note, now)
    return json_answer({"name": name, "version": saved["version"]}, status=201)


async def preview_template(request: Request) -> Response:
    """The page as the chosen shopper would see it, as HTML (with the preview's CSP: no script)."""
    _reader(request)
    name = _name(request)
    body = await _body(request, PreviewBody)
    version = body.version
    if version is None and body.source is None:
        state = authoring.status(wiring.templates(), name, wiring.utcnow())
        version = state["latest"] or 0
    fields = body.model_dump(exclude={"source", "version", "locale"}, exclude_none=True)
    query = _preview_query({"v": version or 0, "lang": body.locale, **fields})
    html, nonce = render_preview(name, query, wiring.utcnow(), body.source)
    headers = {
        **responses.BASE_HEADERS,
        "Cache-Control": responses.PRIVATE,
        "Content-Security-Policy": preview_csp(nonce),
    }
    return HTMLResponse(html, headers=headers)


def _preview_query(fields: dict[str, Any]) -> PreviewQuery:
    try:
        return PreviewQuery.model_validate(fields)
    except ValueError:
        raise Unprocessable(
            "The preview's shopper is not one this shop has (check locale, drop, tier, cohort, cell, popup).",
            code="invalid_body",
        ) from None


async def publish_template(request: Request) -> Response:
    """Publish a version now, or schedule it (``at`` in the future); the template's summary after."""
    principal = _writer(request, Role.PUBLISHER)
    name, store, now = _name(request), wiring.templates(), wiring.utcnow()
    body = await _body(request, PublishBody)
    version = body.version if body.version is not None else (store.pointer(name) or {}).get("latest")
    if version is None:
        raise Unprocessable("There is no saved version to publish; save one first.", code="version_required")
    authoring.publish(store, name, int(version), principal.subject, now, body.at, trial_render)
    return json_answer(_summary(name, now))


async def roll_back_template(request: Request) -> Response:
    """Go back to the version the live one replaced, or to an earlier published ``version``."""
    principal = _writer(request, Role.PUBLISHER)
    name, now = _name(request), wiring.utcnow()
    body = await _body(request, RollbackBody)
    authoring.roll_back(wiring.templates(), name, principal.subject, now, body.version)
    return json_answer(_summary(name, now))


async def template_versions(request: Request) -> Response:
    """``[{version, author, created_at, note, published_at, live}]``, oldest first."""
    _reader(request)
    name, store, now = _name(request), wiring.templates(), wiring.utcnow()
    state = authoring.status(store, name, now)
    live = effective_version(store.pointer(name), now) or 0
    rows = [
        {
            "version": int(v["version"]),
            "author": v.get("author", ""),
            "created_at": v.get("saved_at"),
            "note": v.get("note", ""),
            "published_at": v.get("published_at"),
            "live": int(v["version"]) == live,
        }
        for v in state["versions"]
    ]
    return json_answer(rows)


async def template_diff(request: Request) -> Response:
    """``{from, to, unified, rows}``: two versions (0: the shipped template) as a unified diff and
    side by side (``rows``: each line of each side and how it changed, unchanged runs folded)."""
    _reader(request)
    name, store = _name(request), wiring.templates()
    query = parse_query(request.query_params, DiffQuery)
    rows = authoring.diff_rows(store, name, query.old, query.new)
    return json_answer(
        {
            "from": query.old,
            "to": query.new,
            "unified": authoring.diff(store, name, query.old, query.new),
            "rows": [asdict(row) for row in rows],
        }
    )
