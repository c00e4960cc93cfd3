"""What every studio page shares: who is asking, reading a urlencoded form, rendering a page with
its nonce and security headers, and pydantic's errors said plainly."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.studio.auth import Principal, authenticate, check_csrf, csrf_token
from chalicelib.web import responses

MAX_FORM_BYTES = 128 * 1024

FlashKey = Literal[
    "draft-saved",
    "published",
    "scheduled",
    "rolled-back",
    "drop-created",
    "drop-saved",
    "pricing-saved",
    "called",
    "completed",
    "cancelled",
    "picked-up",
    "no-show",
    "till-revoked",
    "restocked",
    "batch-planned",
    "batch-received",
]

FLASHES: dict[FlashKey, str] = {
    "draft-saved": "Draft saved. Preview it, then publish it when it is ready.",
    "published": "Published: shoppers see it within a minute.",
    "scheduled": "Scheduled: it goes live at the time you chose.",
    "rolled-back": "Rolled back: shoppers see the version before within a minute.",
    "drop-created": "Drop created, not published: fill in its copy and prices, then publish it.",
    "drop-saved": "Drop saved: shoppers see the change within a minute.",
    "pricing-saved": "Pricing saved as a new version: every offer follows it within a minute.",
    "called": "Shopper called: their try-on is held for the fitting.",
    "completed": "Try-on done.",
    "cancelled": "Try-on cancelled: the piece is free again.",
    "picked-up": "Marked picked up.",
    "no-show": "Marked as a no-show: the piece and the slot are free again.",
    "till-revoked": "Till token revoked: that till can no longer send sales.",
    "restocked": "Stock added: shoppers can reserve it now, and anyone waiting for that size is emailed.",
    "batch-planned": "Batch recorded: shoppers see when it is due for the sizes that are sold out.",
    "batch-received": "Batch received: its units are on sale now, and anyone waiting for those sizes is emailed.",
}
"""What the page says after an action (``?done=<key>`` on the redirect): fixed words, so a link
can't make the studio say anything else."""


STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"editor.js": "text/javascript; charset=utf-8"}
"""What the studio serves from static/ (built by `make editor`), and as what."""


@lru_cache(maxsize=len(STATIC_FILES))
def static_file(name: str) -> tuple[bytes, str]:
    """A static file's bytes and the short hash its URL carries (so a new build is a new URL and
    the old one can be cached for good); ``NotFound`` if it is not one or was not built."""
    if name not in STATIC_FILES or not (STATIC / name).is_file():
        raise NotFound(f"There is no studio file called {name[:40]!r}.", code="file_not_found")
    data = (STATIC / name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


def static_url(name: str) -> str:
    """Where a page loads a static file from ("" if it was not built: the page works without it)."""
    try:
        return f"/studio/static/{name}?v={static_file(name)[1]}"
    except NotFound:
        return ""


def done(url: str, key: FlashKey) -> RedirectResponse:
    """The redirect after a successful form post, to a page that says what happened."""
    return RedirectResponse(f"{url}{'&' if '?' in url else '?'}done={key}", status_code=303)


def flash_of(request: Request) -> str | None:
    """The message for the action that led here, if any."""
    key = request.query_params.get("done", "")
    return next((words for name, words in FLASHES.items() if name == key), None)


def _local(moment: str | datetime | None, zone: str) -> str:
    """The ``local`` filter: a stored UTC time (ISO text or datetime) in ``zone``, without the zone's
    name (the column or label names it)."""
    from chalicelib.studio.drops import local_time  # drops reads forms with this module's helpers

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return local_time(moment, zone).rsplit(" (", 1)[0]


@lru_cache(maxsize=1)
def _pages() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(settings().templates_dir / "studio")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["local"] = _local
    return environment


def page(
    template: str, status: int = 200, headers: dict[str, str] | None = None, *, framed: bool = False, **context: Any
) -> HTMLResponse:
    """A studio page: its own nonce, a strict CSP, never cached by anyone but the browser. ``framed``:
    shown inside the studio's own frame (the editor's preview), and nowhere else."""
    nonce = responses.new_nonce()
    principal = context.get("principal")
    if isinstance(principal, Principal):
        context.setdefault("csrf", csrf_token(principal))
    body = _pages().get_template(template).render(nonce=nonce, **context)
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; "
        "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
        + ("frame-ancestors 'self'" if framed else "frame-ancestors 'none'")
    )
    sent = {**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE, "Content-Security-Policy": csp}
    return HTMLResponse(body, status_code=status, headers={**sent, **(headers or {})})


def json_answer(body: Any, status: int = 200) -> JSONResponse:
    """A studio JSON API answer: the security headers, and private (never cached by anyone else)."""
    return JSONResponse(
        body, status_code=status, headers={**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE}
    )


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not an API client, not the studio's JSON API)."""
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/studio/api/")


def principal_of(request: Request) -> Principal:
    return authenticate(request.headers, wiring.sign_ins())


def client_address(request: Request) -> str:
    """The address the request came from, as the platform saw it (a Function URL's source IP, which
    the client cannot set), never a header the client writes."""
    return request.client.host if request.client else "unknown"


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


async def read_form(request: Request, max_fields: int = 20) -> dict[str, str]:
    """The urlencoded form's fields (the last value of a repeated one)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInput("The form is too large.", code="body_too_large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("The form could not be read.", code="invalid_form") from None
    return {key: values[-1] for key, values in fields.items()}


async def checked_form(request: Request, principal: Principal, max_fields: int = 20) -> dict[str, str]:
    """The form, once its CSRF token matches the session."""
    form = await read_form(request, max_fields)
    check_csrf(principal, form.get("csrf"))
    return form
