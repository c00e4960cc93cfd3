"""dropfront's shopper API: routes only. Each parses its input, calls the domain, and answers."""

from __future__ import annotations

from chalice.app import Chalice, ConvertToMiddleware, Request, Response

from chalicelib import telemetry, wiring
from chalicelib.pages.landing import PageLocale, render_landing
from chalicelib.pages.locales import UI_LOCALES, negotiate
from chalicelib.quotes import QuoteRequest, quote
from chalicelib.shopper import checked_slug, open_drop, record_offers
from chalicelib.telemetry import logger, metrics, page_view
from chalicelib.visitors import cookie_headers
from chalicelib.web import payloads, responses
from chalicelib.web.errors import ErrorMapping
from chalicelib.web.middleware import request_middleware
from chalicelib.web.request import edge, page_query, parse_body, public_base_url

app = Chalice(app_name="dropfront")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
if telemetry.tracing_enabled():
    app.register_middleware(ConvertToMiddleware(telemetry.tracer().capture_lambda_handler(capture_response=False)))
app.register_middleware(request_middleware, "http")
errors = ErrorMapping(lambda: app.current_request)


def current_request() -> Request:
    request = app.current_request
    assert request is not None, "Chalice sets the request before any view runs"
    return request


@app.route("/healthz")
@errors.json
def healthz() -> Response:
    return responses.json_body({"status": "ok"}, cache="no-store")


@app.route("/api/drops")
@errors.json
def list_drops() -> Response:
    request = current_request()
    query = page_query(request.query_params)
    locale = negotiate(query.lang, edge(request.headers).accept_language, UI_LOCALES, "en")
    drops = wiring.catalog().public_drops(wiring.utcnow())
    body = [payloads.drop_summary(drop, status, locale) for drop, status in drops]
    return responses.json_body(body, cache="public, max-age=30", extra={"Vary": "Accept-Language"})


@app.route("/drops/{slug}")
@errors.html
def landing_page(slug: str) -> Response:
    request = current_request()
    viewer = edge(request.headers)
    shopper = open_drop(
        wiring.catalog(), slug, page_query(request.query_params), viewer, wiring.utcnow(), with_tokens=False
    )
    nonce = responses.new_nonce()
    url = f"{public_base_url(viewer)}/drops/{slug}"
    where = PageLocale(shopper.locale, shopper.zone, url, shopper.locales)
    body = render_landing(shopper.view, where, nonce)
    page_view(slug, "landing")
    record_offers(shopper)
    cookie = cookie_headers(shopper.new_cookie)
    return responses.html(body, nonce=nonce, locale=shopper.locale, extra=cookie)


@app.route("/api/drops/{slug}")
@errors.json
def drop_detail(slug: str) -> Response:
    request = current_request()
    shopper = open_drop(
        wiring.catalog(),
        slug,
        page_query(request.query_params),
        edge(request.headers),
        wiring.utcnow(),
        with_tokens=True,
    )
    record_offers(shopper)
    cookie = cookie_headers(shopper.new_cookie)
    return responses.json_body(payloads.drop_detail(shopper), extra={"Content-Language": shopper.locale, **cookie})


@app.route("/api/drops/{slug}/stock")
@errors.json
def drop_stock(slug: str) -> Response:
    page_query(current_request().query_params)
    catalog = wiring.catalog()
    drop_catalog = catalog.drop(checked_slug(slug))
    snapshot = catalog.stock(drop_catalog.drop.slug)
    return responses.json_body(payloads.stock(drop_catalog, snapshot, wiring.utcnow()), cache="public, max-age=1")


@app.route("/api/quote", methods=["POST"], content_types=["application/json", "text/plain"])
@errors.json
def quote_basket() -> Response:
    request = current_request()
    basket = parse_body(request.raw_body, QuoteRequest)
    viewer = edge(request.headers)
    shopper = open_drop(wiring.catalog(), basket.drop, page_query(None), viewer, wiring.utcnow(), with_tokens=False)
    record_offers(shopper)
    cookie = cookie_headers(shopper.new_cookie)
    return responses.json_body(quote(shopper, basket), extra=cookie)
