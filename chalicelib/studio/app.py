"""The studio's Starlette app: logging in, page templates (edit, preview, publish, roll back), and
QR tags and sheets for printing.

Every route but the login needs a studio bearer token or session (``chalicelib.studio.auth``).
Domain errors become the same JSON envelope and status codes as the shopper API; a browser that is
not logged in is sent to the login page.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.core.errors import DomainError, NotFound, RateLimited, Unauthorized, Unavailable
from chalicelib.core.model import Model
from chalicelib.core.models import DropCatalog, Slug
from chalicelib.studio import (
    audit_views,
    drop_api,
    drop_views,
    numbers_views,
    outbox_views,
    replays,
    staff_api,
    staff_views,
    template_api,
    views,
)
from chalicelib.studio.web import STATIC_FILES, page, principal_of, static_file, wants_page
from chalicelib.tryon.sheet_pdf import sheets_pdf
from chalicelib.tryon.sheets import PrintedTag, pages, popup_tags, sheet_svg, tag_png
from chalicelib.web import responses
from chalicelib.web.errors import status_for
from chalicelib.web.request import parse_query

SVG = "image/svg+xml"
SHEET_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # the sheet's own <style>, nothing else


class TagsQuery(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    popup: Slug


class SheetQuery(TagsQuery):
    page: Annotated[int, Field(ge=1, le=100)] = 1


def _authorize(request: Request) -> None:
    principal_of(request)


def _drop(slug: str) -> DropCatalog:
    return wiring.catalog().drop(slug)


def _tags(request: Request, popup: str) -> list[PrintedTag]:
    slug = request.path_params["slug"]
    drop = _drop(slug)
    if not any(loc.id == popup and loc.kind == "popup" for loc in drop.locations):
        raise NotFound(f"{slug} is not at a pop-up called {popup}.", code="popup_not_found")
    base = settings().public_url or f"{request.url.scheme}://{request.url.netloc}"
    return popup_tags([drop], popup, base, slug)


def _headers() -> dict[str, str]:
    return {**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE}


async def qr_tags(request: Request) -> Response:
    """``[{sku, size, url}]``: the try-on URLs a pop-up's printed tags encode."""
    _authorize(request)
    query = parse_query(request.query_params, TagsQuery)
    body = [{"sku": t.tag.sku, "size": t.tag.size, "url": t.url} for t in _tags(request, query.popup)]
    return JSONResponse(body, headers=_headers())


async def qr_sheet(request: Request) -> Response:
    """One A4 page of labels as SVG; ``X-Sheet-Pages`` says how many pages the pop-up needs."""
    _authorize(request)
    query = parse_query(request.query_params, SheetQuery)
    tags = _tags(request, query.popup)
    total = pages(tags)
    if query.page > total:
        raise NotFound(f"There are {total} pages of tags.", code="page_not_found")
    headers = {**_headers(), "X-Sheet-Pages": str(total), "Content-Security-Policy": SHEET_CSP}
    return Response(sheet_svg(tags, query.page), media_type=SVG, headers=headers)


async def qr_sheets_pdf(request: Request) -> Response:
    """Every page of a pop-up's tag sheets as one PDF, a download to print in one job."""
    _authorize(request)
    query = parse_query(request.query_params, TagsQuery)
    tags = _tags(request, query.popup)
    slug = request.path_params["slug"]
    name = f"{slug}-{query.popup}-tags.pdf"
    headers = {**_headers(), "Content-Disposition": f'attachment; filename="{name}"', "X-Sheet-Pages": str(pages(tags))}
    body = sheets_pdf(tags, f"QR tags: {slug} at {query.popup}")
    return Response(body, media_type="application/pdf", headers=headers)


async def qr_sheets_page(request: Request) -> Response:
    """Every page of a pop-up's tag sheets on one page, each linked, printed together as one job,
    and the link to all of them as one PDF."""
    principal = principal_of(request)
    query = parse_query(request.query_params, TagsQuery)
    tags = _tags(request, query.popup)
    slug = request.path_params["slug"]
    return page("qr_sheets.html", principal=principal, slug=slug, popup=query.popup, tags=len(tags), pages=pages(tags))


async def qr_png(request: Request) -> Response:
    """One tag's QR as a PNG, for a label printer."""
    _authorize(request)
    query = parse_query(request.query_params, TagsQuery)
    sku, size = request.path_params["sku"], request.path_params["size"]
    for tag in _tags(request, query.popup):
        if tag.tag.sku == sku and tag.tag.size == size:
            return Response(tag_png(tag), media_type="image/png", headers=_headers())
    raise NotFound(f"There is no tag for {sku} in size {size}.", code="tag_not_found")


async def static(request: Request) -> Response:
    """The studio's bundled scripts: public (nothing in them is secret), cached for good under the
    content hash their URL carries."""
    data, version = static_file(request.path_params["name"])
    cache = "public, max-age=31536000, immutable" if request.query_params.get("v") == version else "no-cache"
    media_type = STATIC_FILES[request.path_params["name"]]
    return Response(data, media_type=media_type, headers={**responses.BASE_HEADERS, "Cache-Control": cache})


async def domain_error(request: Request, error: Exception) -> Response:
    """A browser gets a page that says what went wrong (or the login page); API clients get the
    JSON error envelope. Both carry the same status code."""
    assert isinstance(error, DomainError)
    browser = wants_page(request)
    if isinstance(error, Unauthorized) and request.method == "GET" and browser:
        return RedirectResponse("/studio/login", status_code=303)
    headers = _headers()
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="dropfront-studio"'
    if isinstance(error, Unavailable | RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if browser:
        details = error.details if isinstance(error.details, list) else []
        return page("error.html", status=status_for(error), headers=headers, error=error, problems=details)
    envelope = responses.error_envelope(error.code, error.message, error.details)
    return JSONResponse(envelope, status_code=status_for(error), headers=headers)


def create_app() -> Starlette:
    routes = [
        Route("/studio/login", views.login_page, methods=["GET"]),
        Route("/studio/static/{name}", static),
        Route("/studio/login", views.log_in, methods=["POST"]),
        Route("/studio/logout", views.log_out, methods=["POST"]),
        Route("/studio/", views.home),
        Route("/studio/templates/{name}", views.editor, methods=["GET"]),
        Route("/studio/templates/{name}", views.change_template, methods=["POST"]),
        Route("/studio/templates/{name}/diff", views.diff),
        Route("/studio/templates/{name}/preview", views.preview),
        Route("/studio/drops", drop_views.create_drop, methods=["POST"]),
        Route("/studio/drops/{slug}", drop_views.drop_page, methods=["GET"]),
        Route("/studio/drops/{slug}", drop_views.save_drop, methods=["POST"]),
        Route("/studio/drops/{slug}/stock", drop_views.restock_form, methods=["POST"]),
        Route("/studio/drops/{slug}/batches", drop_views.batch_form, methods=["POST"]),
        Route("/studio/drops/{slug}/batches/{batch}/received", drop_views.batch_received_form, methods=["POST"]),
        Route("/studio/drops/{slug}/import", drop_views.import_page, methods=["GET"]),
        Route("/studio/drops/{slug}/import/template.csv", drop_views.import_template),
        Route("/studio/drops/{slug}/pricing", drop_views.pricing_page, methods=["GET"]),
        Route("/studio/drops/{slug}/pricing", drop_views.change_pricing, methods=["POST"]),
        Route("/studio/drops/{slug}/numbers", numbers_views.numbers_page),
        Route("/studio/drops/{slug}/replay", replays.replay_page),
        Route("/studio/drops/{slug}/numbers/{chart}.{kind}", numbers_views.numbers_export),
        Route("/studio/popups/{popup}", staff_views.popup_page),
        Route("/studio/popups/{popup}/tryons/{id}", staff_views.act_on_tryon, methods=["POST"]),
        Route("/studio/popups/{popup}/pickups/{code}", staff_views.mark_booking, methods=["POST"]),
        Route("/studio/popups/{popup}/tills", staff_views.change_tills, methods=["POST"]),
        Route("/studio/api/templates", template_api.list_templates),
        Route("/studio/api/templates/{name}", template_api.get_template, methods=["GET"]),
        Route("/studio/api/templates/{name}", template_api.put_template, methods=["PUT"]),
        Route("/studio/api/templates/{name}/preview", template_api.preview_template, methods=["POST"]),
        Route("/studio/api/templates/{name}/publish", template_api.publish_template, methods=["POST"]),
        Route("/studio/api/templates/{name}/rollback", template_api.roll_back_template, methods=["POST"]),
        Route("/studio/api/templates/{name}/versions", template_api.template_versions),
        Route("/studio/api/templates/{name}/diff", template_api.template_diff),
        Route("/studio/api/drops", drop_api.list_drops),
        Route("/studio/api/drops/{slug}", drop_api.get_drop, methods=["GET"]),
        Route("/studio/api/drops/{slug}", drop_api.put_drop, methods=["PUT"]),
        Route("/studio/api/drops/{slug}/stock", drop_api.add_stock_api, methods=["POST"]),
        Route("/studio/api/drops/{slug}/batches", drop_api.plan_batch_api, methods=["POST"]),
        Route("/studio/api/drops/{slug}/batches/{batch}/received", drop_api.receive_batch_api, methods=["POST"]),
        Route("/studio/api/drops/{slug}/pricing", drop_api.get_pricing, methods=["GET"]),
        Route("/studio/api/drops/{slug}/pricing", drop_api.post_pricing, methods=["POST"]),
        Route("/studio/api/drops/{slug}/audit", drop_api.drop_audit),
        Route("/studio/api/drops/{slug}/numbers", drop_api.drop_numbers_api),
        Route("/studio/api/drops/{slug}/decisions/{decision_id}", replays.replay_api),
        Route("/studio/api/drops/{slug}/imports", drop_views.import_csv, methods=["POST"]),
        Route("/studio/api/drops/{slug}/imports/latest", drop_api.latest_import),
        Route("/studio/api/drops/{slug}/skus/{sku}/picture", drop_views.set_picture, methods=["POST"]),
        Route("/studio/outbox", outbox_views.outbox_page),
        Route("/studio/audit", audit_views.audit_page),
        Route("/studio/api/outbox", outbox_views.outbox_api),
        Route("/studio/api/popups/{popup}", staff_api.popup_board),
        Route("/studio/api/popups/{popup}/tryons/{id}", staff_api.act_on_tryon, methods=["POST"]),
        Route("/studio/api/popups/{popup}/pickups/{code}", staff_api.find_pickup, methods=["GET"]),
        Route("/studio/api/popups/{popup}/pickups/{code}", staff_api.mark, methods=["POST"]),
        Route("/studio/api/popups/{popup}/tills", staff_api.issue_till, methods=["POST"]),
        Route("/studio/api/popups/{popup}/tills/{id}", staff_api.revoke_till, methods=["DELETE"]),
        Route("/studio/api/drops/{slug}/qr-tags", qr_tags),
        Route("/studio/api/drops/{slug}/qr-tags/{sku}/{size}.png", qr_png),
        Route("/studio/drops/{slug}/qr-sheet.svg", qr_sheet),
        Route("/studio/drops/{slug}/qr-sheets", qr_sheets_page),
        Route("/studio/drops/{slug}/qr-sheets.pdf", qr_sheets_pdf),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={DomainError: domain_error},
        middleware=[Middleware(SecurityHeaders)],
    )


STUDIO_DEFAULT_HEADERS = {
    **responses.BASE_HEADERS,
    "Cache-Control": responses.PRIVATE,
    "Content-Security-Policy": responses.JSON_CSP,
}


class SecurityHeaders:
    """Every studio response carries the security headers and ``no-store``, whatever made it: a
    view, a redirect, or Starlette's own 404 and 405. A view's own values stand."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in STUDIO_DEFAULT_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
