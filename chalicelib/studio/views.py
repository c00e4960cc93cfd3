"""The studio's pages: log in, the template list, the editor (save, preview, publish, schedule, roll
back, diff). Forms are urlencoded; every one carries the session's CSRF token."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.errors import InvalidInput, NotFound, Unprocessable
from chalicelib.models import AwareDatetime
from chalicelib.pages.landing import PageLocale, landing_context
from chalicelib.pages.locales import UI_LOCALES
from chalicelib.pages.published import PAGES, shipped_source
from chalicelib.pages.sandbox import RenderRefused, TemplateRejected
from chalicelib.shopper import open_drop
from chalicelib.studio import templates as authoring
from chalicelib.studio.auth import (
    Principal,
    Role,
    authenticate,
    check_csrf,
    clear_session_cookie,
    csrf_token,
    from_token,
    session_cookie,
)
from chalicelib.web import responses
from chalicelib.web.request import Edge, PageQuery, parse_query

MAX_FORM_BYTES = 128 * 1024
PREVIEW_FRAME = "frame-ancestors 'self'"


class EditorQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: int | None = Field(default=None, ge=0, le=1_000_000)
    lang: str = Field(default="en", pattern=r"^[a-z]{2}$")


class DiffQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    old: int = Field(ge=0, le=1_000_000)
    new: int = Field(ge=0, le=1_000_000)


class TemplateForm(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    action: str = Field(pattern=r"^(save|publish|rollback)$")
    csrf: str = Field(default="", max_length=512)
    source: str = Field(default="", max_length=MAX_FORM_BYTES)
    note: str = Field(default="", max_length=200)
    version: int | None = Field(default=None, ge=1, le=1_000_000)
    at: AwareDatetime | None = None


@lru_cache(maxsize=1)
def _pages() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(settings().templates_dir / "studio")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _html(page: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    nonce = responses.new_nonce()
    body = _pages().get_template(page).render(nonce=nonce, **context)
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; "
        "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    sent = {**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE, "Content-Security-Policy": csp}
    return HTMLResponse(body, status_code=status, headers={**sent, **(headers or {})})


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInput("The form is too large.", code="body_too_large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("The form could not be read.", code="invalid_form") from None
    return {key: values[-1] for key, values in fields.items()}


# --- logging in ----------------------------------------------------------------------------------


async def login_page(request: Request) -> Response:
    return _html("login.html", error=None)


async def log_in(request: Request) -> Response:
    form = await _form(request)
    try:
        principal = from_token(form.get("token", "").strip())
    except Exception:  # noqa: BLE001 - any failure is the same answer to the person at the form
        return _html("login.html", status=401, error="That token is not valid.")
    return RedirectResponse("/studio/", status_code=303, headers={"Set-Cookie": session_cookie(principal)})


async def log_out(request: Request) -> Response:
    return RedirectResponse("/studio/login", status_code=303, headers={"Set-Cookie": clear_session_cookie()})


# --- templates -----------------------------------------------------------------------------------


def _principal(request: Request) -> Principal:
    return authenticate(request.headers)


async def home(request: Request) -> Response:
    principal = _principal(request)
    now = wiring.utcnow()
    pages = [authoring.status(wiring.templates(), name, now) for name in PAGES]
    drops = [
        {"slug": d.slug, "popups": [loc.id for loc in wiring.catalog().drop(d.slug).locations if loc.kind == "popup"]}
        for d in wiring.catalog().all_drops()
    ]
    return _html("home.html", principal=principal, pages=pages, drops=drops, csrf=csrf_token(principal))


async def editor(request: Request) -> Response:
    principal = _principal(request)
    name = authoring.checked_name(request.path_params["name"])
    query = parse_query(request.query_params, EditorQuery)
    return _editor(principal, name, query.v, query.lang, problems=[], status=200)


def _editor(
    principal: Principal, name: str, version: int | None, lang: str, problems: list[Any], status: int, source: str = ""
) -> Response:
    store, now = wiring.templates(), wiring.utcnow()
    state = authoring.status(store, name, now)
    shown = version if version is not None else (state["latest"] or 0)
    if not source:
        stored = store.version(name, shown) if shown else None
        if shown and stored is None:
            raise NotFound(f"{name} has no version {shown}.", code="version_not_found")
        source = stored["source"] if stored else shipped_source(name)
    return _html(
        "editor.html",
        status=status,
        principal=principal,
        name=name,
        state=state,
        shown=shown,
        source=source,
        problems=problems,
        lang=lang,
        locales=UI_LOCALES,
        csrf=csrf_token(principal),
        preview=f"/studio/templates/{name}/preview?v={shown}&lang={lang}",
        can_publish=Role.PUBLISHER in principal.roles,
    )


async def change_template(request: Request) -> Response:
    principal = _principal(request)
    name = authoring.checked_name(request.path_params["name"])
    form = _parse_form(await _form(request))
    check_csrf(principal, form.csrf)
    store, now = wiring.templates(), wiring.utcnow()
    if form.action == "save":
        principal.require(Role.EDITOR)
        try:
            saved = authoring.save_draft(store, name, form.source, principal.subject, form.note, now)
        except Unprocessable as refused:
            return _editor(principal, name, None, "en", refused.details or [], 422, form.source)
        return RedirectResponse(f"/studio/templates/{name}?v={saved['version']}", status_code=303)
    principal.require(Role.PUBLISHER)
    if form.action == "publish":
        if form.version is None:
            raise Unprocessable("Choose a version to publish.", code="version_required")
        authoring.publish(store, name, form.version, principal.subject, now, form.at)
    else:
        authoring.roll_back(store, name, principal.subject, now)
    return RedirectResponse(f"/studio/templates/{name}", status_code=303)


def _parse_form(fields: dict[str, str]) -> TemplateForm:
    cleaned: dict[str, Any] = {k: v for k, v in fields.items() if v != ""}
    at = cleaned.get("at")
    if isinstance(at, str) and not at.endswith("Z") and "+" not in at[10:]:
        cleaned["at"] = at + "Z"  # the form's local datetime is labelled UTC
    try:
        return TemplateForm.model_validate(cleaned)
    except Exception:  # noqa: BLE001 - pydantic's error, said plainly
        raise Unprocessable("The form is missing something or has a bad value.", code="invalid_form") from None


async def diff(request: Request) -> Response:
    _principal(request)
    name = authoring.checked_name(request.path_params["name"])
    query = parse_query(request.query_params, DiffQuery)
    text = authoring.diff(wiring.templates(), name, query.old, query.new) or "(no differences)\n"
    return PlainTextResponse(text, headers={**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE})


async def preview(request: Request) -> Response:
    """The landing page of the first drop as a visitor in ``lang`` sees it, with version ``v``."""
    _principal(request)
    name = authoring.checked_name(request.path_params["name"])
    if name != "landing":
        raise Unprocessable("Preview is available for the landing page.", code="no_preview")
    query = parse_query(request.query_params, EditorQuery)
    catalog, now = wiring.catalog(), wiring.utcnow()
    drops = catalog.all_drops()
    if not drops:
        raise NotFound("There is no drop to preview with.", code="drop_not_found")
    viewer = Edge(None, None, None, None, None, None, None, None, None)
    shopper = open_drop(catalog, drops[0].slug, PageQuery(lang=query.lang), viewer, now, with_tokens=False)
    nonce = responses.new_nonce()
    base = settings().public_url or ""
    where = PageLocale(shopper.locale, shopper.zone, f"{base}/drops/{quote(drops[0].slug)}", shopper.locales)
    context = landing_context(shopper.view, where, nonce)
    try:
        body = wiring.published().render_version(shopper.locale, name, query.v or 0, context)
    except (TemplateRejected, RenderRefused, LookupError) as error:
        raise Unprocessable(f"This version does not render: {error}", code="render_failed") from None
    headers = {
        **responses.BASE_HEADERS,
        "Cache-Control": responses.PRIVATE,
        "Content-Security-Policy": responses.html_csp(nonce).replace("frame-ancestors 'none'", PREVIEW_FRAME),
    }
    return HTMLResponse(body, headers=headers)
