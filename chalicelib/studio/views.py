"""The studio's pages: log in, the template list, the editor (save, preview, publish, schedule, roll
back, diff). Forms are urlencoded; every one carries the session's CSRF token."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from pydantic import ConfigDict, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from chalicelib import wiring
from chalicelib.core.errors import NotFound, RateLimited, Unauthorized, Unprocessable
from chalicelib.core.model import Model
from chalicelib.core.models import AwareDatetime
from chalicelib.i18n.locales import UI_LOCALES
from chalicelib.pages.published import CONTEXT_NAMES, PAGES, sandbox, shipped_source
from chalicelib.studio import auth
from chalicelib.studio import templates as authoring
from chalicelib.studio.auth import (
    Principal,
    Role,
    check_csrf,
    clear_session_cookie,
    csrf_token,
    session_cookie,
)
from chalicelib.studio.drops import checked_zone, from_local, studio_zones
from chalicelib.studio.preview import PreviewQuery, choices, preview_url, render_preview, trial_render
from chalicelib.studio.web import (
    MAX_FORM_BYTES,
    checked_form,
    client_address,
    done,
    flash_of,
    own_origin,
    page,
    principal_of,
    read_form,
    static_url,
    wants_page,
)
from chalicelib.web import responses
from chalicelib.web.errors import status_for
from chalicelib.web.request import parse_query, same_site


def preview_csp(nonce: str) -> str:
    """The page's own CSP, but no script at all, a sandbox (an opaque origin: nothing in the frame can
    act as the studio's user), and framed only by the studio's editor."""
    page = responses.html_csp(nonce)
    page = re.sub(r"script-src [^;]+", "script-src 'none'", page)
    return page.replace("frame-ancestors 'none'", "frame-ancestors 'self'; sandbox")


class EditorQuery(PreviewQuery):
    v: int | None = Field(default=None, ge=0, le=1_000_000)  # type: ignore[assignment]  # None: the latest
    zone: str = Field(default="UTC", max_length=64)  # times are read and typed in it


class DiffQuery(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    old: int = Field(ge=0, le=1_000_000)
    new: int = Field(ge=0, le=1_000_000)


class TemplateForm(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    action: str = Field(pattern=r"^(save|publish|rollback)$")
    csrf: str = Field(default="", max_length=512)
    source: str = Field(default="", max_length=MAX_FORM_BYTES)
    note: str = Field(default="", max_length=200)
    version: int | None = Field(default=None, ge=1, le=1_000_000)
    at: AwareDatetime | None = None
    zone: str = Field(default="UTC", max_length=64)


# --- logging in ----------------------------------------------------------------------------------


async def login_page(request: Request) -> Response:
    return page("login.html", error=None)


async def log_in(request: Request) -> Response:
    """Sign in from the login form: only from the studio's own pages (so no other site can sign a
    browser into an account of its choosing), and a wrong token counts against the address."""
    same_site(request.headers, own_origin(request))
    form = await read_form(request)
    try:
        principal = auth.log_in(
            form.get("token", "").strip(), client_address(request), wiring.sign_ins(), wiring.utcnow().timestamp()
        )
    except Unauthorized:
        return page("login.html", status=401, error="That token is not valid.")
    except RateLimited as refused:
        return page("login.html", status=429, error=refused.message, headers={"Retry-After": str(refused.retry_after)})
    return RedirectResponse("/studio/", status_code=303, headers={"Set-Cookie": session_cookie(principal)})


async def log_out(request: Request) -> Response:
    """End the session, here and on the server (its own CSRF token guards the form, so no other site
    can log you out)."""
    principal = principal_of(request)
    await checked_form(request, principal)
    auth.log_out(principal, wiring.sign_ins())
    return RedirectResponse("/studio/login", status_code=303, headers={"Set-Cookie": clear_session_cookie()})


# --- templates -----------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    principal = principal_of(request)
    now = wiring.utcnow()
    pages = [authoring.status(wiring.templates(), name, now) for name in PAGES]
    store = wiring.catalog_store()
    drops = [store.drop_catalog(d.slug) for d in store.drops()]
    return page("home.html", principal=principal, pages=pages, drops=drops, csrf=csrf_token(principal), now=now)


async def editor(request: Request) -> Response:
    principal = principal_of(request)
    name = authoring.checked_name(request.path_params["name"])
    query = parse_query(request.query_params, EditorQuery)
    return _editor(principal, name, query, problems=[], status=200, flash=flash_of(request))


def _editor(
    principal: Principal,
    name: str,
    query: EditorQuery,
    problems: list[Any],
    status: int,
    source: str = "",
    flash: str | None = None,
) -> Response:
    version = query.v
    store, now = wiring.templates(), wiring.utcnow()
    zones = _zones()
    checked_zone(query.zone, zones)
    state = authoring.status(store, name, now)
    shown = version if version is not None else (state["latest"] or 0)
    if not source:
        stored = store.version(name, shown) if shown else None
        if shown and stored is None:
            raise NotFound(f"{name} has no version {shown}.", code="version_not_found")
        source = stored["source"] if stored else shipped_source(name)
    return page(
        "editor.html",
        status=status,
        principal=principal,
        name=name,
        state=state,
        shown=shown,
        source=source,
        problems=problems,
        lang=query.lang,
        locales=UI_LOCALES,
        csrf=csrf_token(principal),
        query=query,
        choices=choices(query),
        preview=preview_url(name, PreviewQuery.model_validate({**query.model_dump(exclude={"zone"}), "v": shown})),
        zone=query.zone,
        zones=zones,
        can_publish=Role.PUBLISHER in principal.roles,
        flash=flash,
        variables=sorted(n for n in CONTEXT_NAMES[name] if not n.startswith("_")),
        filters=sandbox("en").filter_names(),
        editor_js=static_url("editor.js"),
    )


async def change_template(request: Request) -> Response:
    principal = principal_of(request)
    name = authoring.checked_name(request.path_params["name"])
    form = _parse_form(await read_form(request))
    check_csrf(principal, form.csrf)
    store, now = wiring.templates(), wiring.utcnow()
    if form.action == "save":
        principal.require(Role.EDITOR)
        try:
            saved = authoring.save_draft(store, name, form.source, principal.subject, form.note, now)
        except Unprocessable as refused:
            return _editor(principal, name, EditorQuery(), refused.details or [], 422, form.source)
        return done(f"/studio/templates/{name}?v={saved['version']}", "draft-saved")
    principal.require(Role.PUBLISHER)
    if form.action == "publish":
        if form.version is None:
            raise Unprocessable("Choose a version to publish.", code="version_required")
        authoring.publish(store, name, form.version, principal.subject, now, form.at, trial_render)
        scheduled = form.at is not None and form.at > now
        return done(f"/studio/templates/{name}?zone={quote(form.zone)}", "scheduled" if scheduled else "published")
    authoring.roll_back(store, name, principal.subject, now)
    return done(f"/studio/templates/{name}", "rolled-back")


def _zones() -> list[str]:
    store = wiring.catalog_store()
    return studio_zones(c for c in (store.drop_catalog(d.slug) for d in store.drops()) if c)


def _parse_form(fields: dict[str, str]) -> TemplateForm:
    """The editor's form; a publish time is the form's local time in the zone it names."""
    cleaned: dict[str, Any] = {k: v for k, v in fields.items() if v != ""}
    at = cleaned.get("at")
    if isinstance(at, str):
        zone = checked_zone(cleaned.get("zone", "UTC"), _zones())
        try:
            cleaned["at"] = from_local(at, zone)
        except ValueError as error:
            raise Unprocessable(
                f"The publish time could not be read: {error}.",
                code="invalid_form",
                details=[{"field": "at", "problem": str(error)}],
            ) from None
    try:
        return TemplateForm.model_validate(cleaned)
    except Exception:  # noqa: BLE001 - pydantic's error, said plainly
        raise Unprocessable("The form is missing something or has a bad value.", code="invalid_form") from None


async def diff(request: Request) -> Response:
    """Two versions side by side, changes marked, for a browser; a unified diff for anything else."""
    principal = principal_of(request)
    name = authoring.checked_name(request.path_params["name"])
    query = parse_query(request.query_params, DiffQuery)
    if wants_page(request):
        rows = authoring.diff_rows(wiring.templates(), name, query.old, query.new)
        return page("diff.html", principal=principal, name=name, old=query.old, new=query.new, rows=rows)
    text = authoring.diff(wiring.templates(), name, query.old, query.new) or "(no differences)\n"
    return PlainTextResponse(text, headers={**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE})


async def preview(request: Request) -> Response:
    """The page with version ``v`` as the chosen shopper sees it (``PreviewQuery``), framed by the editor."""
    principal_of(request)
    name = authoring.checked_name(request.path_params["name"])
    query = parse_query(request.query_params, PreviewQuery)
    try:
        body, nonce = render_preview(name, query, wiring.utcnow())
    except Unprocessable as error:
        if not wants_page(request):
            raise
        # Said inside the editor's frame, where the marketer is looking (an unframable page is blank there).
        return page("error.html", status=status_for(error), framed=True, error=error, problems=[])
    headers = {
        **responses.BASE_HEADERS,
        "Cache-Control": responses.PRIVATE,
        "Content-Security-Policy": preview_csp(nonce),
    }
    return HTMLResponse(body, headers=headers)
