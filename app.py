"""dropfront's shopper API: routes only. Each parses its input, calls the domain, and answers.

The landing page's path is imported with the app; every other route imports its domain when it is
first called, so a cold start that serves a landing page (the one a launch's crowd causes, and the
one `make bench` measures) does not load the holds', bookings', tills' and try-ons' code.

The garbage collector is off while the modules load and their objects are frozen after: they live as
long as the process, so collecting them while the graph grows, and again at every later full
collection, is work for nothing (measured: 40 ms of a cold start's CPU, most of it at exit).
"""

from __future__ import annotations

import gc

gc.disable()

from chalicelib.core import dataclass_code

dataclass_code.install()  # before the first dataclass is defined

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from chalice.app import Chalice, ConvertToMiddleware, Rate, Request, Response

from chalicelib import snapstart, telemetry, wiring
from chalicelib.config import settings
from chalicelib.core.models import DropStatus
from chalicelib.core.tokens import signing_keys
from chalicelib.edge.segment import edge_keys
from chalicelib.i18n.locales import UI_LOCALES, negotiate
from chalicelib.pages.published import promote_due
from chalicelib.pricing.policy import Channel, Experiment
from chalicelib.shop.page import PageLocale, ReserveForm, landing_context
from chalicelib.shop.shopper import ShopperDrop, checked_slug, open_drop, priced_at, record_offers
from chalicelib.shop.visitors import check_form_token, cookie_headers, form_token, identify
from chalicelib.telemetry import logger, page_view
from chalicelib.waiting.admission import Entry, may_reach_stock, require_pass
from chalicelib.waiting.page import render_queue_page
from chalicelib.waiting.room import room_of
from chalicelib.web import payloads, responses
from chalicelib.web.errors import ErrorMapping
from chalicelib.web.middleware import request_middleware
from chalicelib.web.request import (
    MAX_TILL_BODY_BYTES,
    LandingQuery,
    PickupPageQuery,
    bearer_token,
    edge,
    edge_segment,
    form_visitor,
    idempotency_key,
    page_path,
    page_query,
    parse_body,
    parse_form,
    parse_query,
    public_base_url,
    same_origin,
)

if TYPE_CHECKING:
    from chalicelib.customers.ports import Sighting
    from chalicelib.tills.returns import ReturnsBatch
    from chalicelib.tills.sales import FootfallBatch, SalesBatch

JSON_BODY = ["application/json", "text/plain"]
FORM_BODY = ["application/x-www-form-urlencoded"]

app = Chalice(app_name="dropfront")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
if telemetry.tracing_enabled():
    app.register_middleware(ConvertToMiddleware(telemetry.tracer().capture_lambda_handler(capture_response=False)))
app.register_middleware(request_middleware, "http")
errors = ErrorMapping(lambda: app.current_request)
snapstart.register()  # SnapStart: warm the init phase, renew each restored copy


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
    """Rendered for the visitor's segment when the edge sent its key (CloudFront then keeps it for a
    second for everyone with that key), else for this visitor alone; a launch's waiting room and a
    page adding to a hold are always per visitor."""
    request = current_request()
    viewer, now = edge(request.headers), wiring.utcnow()
    query = parse_query(request.query_params, LandingQuery)
    catalog = wiring.catalog()
    per_visitor = query.hold is not None or room_of(catalog.drop(checked_slug(slug)).drop, now) is not None
    segment = None if per_visitor else edge_segment(request.headers)
    shopper = open_drop(
        catalog, slug, viewer, now, with_tokens=False, lang=query.lang, campaign=query.c, segment=segment
    )
    nonce = responses.new_nonce()
    entry = (
        None
        if shopper.shared
        else wiring.rooms().enter(shopper.view.catalog.drop, shopper.visitor.id, viewer.cookie, now)
    )
    if queued := queue_page(shopper, entry, now, f"/drops/{slug}?lang={shopper.locale}"):
        return queued
    room_cookies = entry.cookies if entry else ()
    url = f"{public_base_url(viewer)}/drops/{slug}"
    where = PageLocale(shopper.locale, shopper.zone, url, shopper.locales, asked=query.lang is not None)
    token = "" if shopper.shared else form_token(shopper.visitor.id)  # a shared page's forms prove their origin
    form = ReserveForm(token, shopper.nearest, query.hold, shopper.units_per_customer)
    context = landing_context(shopper.view, where, nonce, form, query.m, in_queue=entry is not None)
    body = wiring.published().render(shopper.locale, "landing", context, now)
    page_view(slug, "landing")
    record_offers(shopper, wiring.numbers(), first_view_counted=settings().behind_edge)  # from the edge's log
    cookie = cookie_headers(*shopper.cookies, *room_cookies)
    return responses.html(body, nonce=nonce, locale=shopper.locale, extra=cookie, shared=shopper.shared)


def queue_page(shopper: ShopperDrop, entry: Entry | None, now: datetime, here: str) -> Response | None:
    """The waiting room's queue page while the drop is live, its room is on and this viewer's turn
    has not come (``here`` is the page they asked for, which the queue page checks again)."""
    if entry is None or entry.place.admitted or shopper.view.status is not DropStatus.LIVE:
        return None
    page_view(shopper.view.catalog.drop.slug, "queue")
    nonce = responses.new_nonce()
    body = render_queue_page(shopper, entry, now, nonce, here)
    cookies = cookie_headers(*shopper.cookies, *entry.cookies)
    return responses.html(body, nonce=nonce, locale=shopper.locale, cache="no-store", extra=cookies)


@app.route("/drops/{slug}/reserve", methods=["POST"], content_types=FORM_BODY)
@errors.html
def reserve_from_page(slug: str) -> Response:
    """A product card's form (no script needed): hold the piece, then the hold's page books it."""
    from chalicelib.stock.checkout import place_hold
    from chalicelib.stock.journey import ReserveFields

    request = current_request()
    visitor, query = form_visitor(request.headers), page_query(request.query_params)
    fields = parse_form(request.raw_body, ReserveFields)
    check_form_token(fields.ft, visitor, same_origin=same_origin(request.headers))
    now = wiring.utcnow()
    drop = wiring.catalog().drop(checked_slug(slug)).drop
    if not may_reach_stock(drop, visitor.id, edge(request.headers).cookie, now):  # its page shows the queue
        return responses.see_other(page_path(f"/drops/{slug}", lang=query.lang))
    hold = place_hold(
        wiring.holds(), wiring.catalog(), visitor.id, fields.hold_request(checked_slug(slug)), wiring.hold_rules(), now
    )
    return responses.see_other(page_path(f"/drops/{slug}/holds/{hold.hold_id}", lang=query.lang))


@app.route("/drops/{slug}/holds/{hold_id}")
@errors.html
def held_pieces_page(slug: str, hold_id: str) -> Response:
    from chalicelib.stock.checkout import own_hold
    from chalicelib.stock.hold_page import hold_page, render_hold_page
    from chalicelib.stock.page import confirmation_path

    request = current_request()
    visitor, _ = identify(edge(request.headers).cookie)
    query = page_query(request.query_params)
    hold = own_hold(wiring.holds(), visitor.id, hold_id, slug)
    if hold.booking is not None:
        return responses.see_other(confirmation_path(hold.booking, query.lang))
    page = hold_page(wiring.catalog(), wiring.bookings(), hold, edge(request.headers), query.lang, wiring.utcnow())
    nonce = responses.new_nonce()
    return responses.html(render_hold_page(page, nonce), nonce=nonce, locale=page.shopper.locale)


@app.route("/drops/{slug}/holds/{hold_id}", methods=["POST"], content_types=FORM_BODY)
@errors.html
def book_hold_from_page(slug: str, hold_id: str) -> Response:
    from chalicelib.customers.book import see_customer
    from chalicelib.stock.checkout import own_hold
    from chalicelib.stock.hold_page import hold_page, render_hold_page
    from chalicelib.stock.journey import BookingFields, FormProblems, book_hold
    from chalicelib.stock.page import confirmation_path

    request = current_request()
    visitor, query = form_visitor(request.headers), page_query(request.query_params)
    fields = parse_form(request.raw_body, BookingFields)
    check_form_token(fields.ft, visitor, same_origin=same_origin(request.headers))
    hold = own_hold(wiring.holds(), visitor.id, hold_id, slug)
    if hold.booking is not None:  # a second tap after the first one booked
        return responses.see_other(confirmation_path(hold.booking, query.lang))
    viewer, now = edge(request.headers), wiring.utcnow()
    page = hold_page(wiring.catalog(), wiring.bookings(), hold, viewer, query.lang, now, fields)
    try:
        answer = book_hold(wiring.bookings(), wiring.holds(), page.shopper, hold, fields, page.now)
    except FormProblems as problems:
        nonce = responses.new_nonce()
        body = render_hold_page(replace(page, problems=problems.fields), nonce)
        return responses.html(body, nonce=nonce, locale=page.shopper.locale, status=422)
    record_offers(page.shopper, wiring.numbers())
    if not answer.replayed:
        see_customer(wiring.customers(), wiring.numbers(), fields.email, slug, hold.popup, now)
    return responses.see_other(confirmation_path(answer.body["code"], query.lang))


@app.route("/drops/{slug}/holds/{hold_id}/release", methods=["POST"], content_types=FORM_BODY)
@errors.html
def release_hold_from_page(slug: str, hold_id: str) -> Response:
    from chalicelib.stock.checkout import own_hold, release_own_hold
    from chalicelib.stock.journey import BookingFields

    request = current_request()
    visitor, query = form_visitor(request.headers), page_query(request.query_params)
    check_form_token(parse_form(request.raw_body, BookingFields).ft, visitor, same_origin=same_origin(request.headers))
    release_own_hold(wiring.holds(), visitor.id, own_hold(wiring.holds(), visitor.id, hold_id, slug), wiring.utcnow())
    return responses.see_other(page_path(f"/drops/{slug}", lang=query.lang, m="released"))


@app.route("/api/drops/{slug}/notify", methods=["POST"], content_types=JSON_BODY)
@errors.json
def notify_me(slug: str) -> Response:
    """Ask to hear when the drop opens (or a size is back): 202, and a confirmation email to open."""
    from chalicelib.customers.book import see_customer
    from chalicelib.shop.notify import NotifyRequest, ask_to_notify

    wanted, now = parse_body(current_request().raw_body, NotifyRequest), wiring.utcnow()
    ask_to_notify(wiring.subscriptions(), wiring.catalog(), slug, wanted, now)
    see_customer(wiring.customers(), wiring.numbers(), wanted.email, slug, None, now)
    return responses.json_body({"status": "confirmation_sent"}, status=202)


@app.route("/drops/{slug}/notify", methods=["POST"], content_types=FORM_BODY)
@errors.html
def notify_me_from_page(slug: str) -> Response:
    """The teaser's (or a sold-out size's) form: the same, then back to the page, which says so."""
    from chalicelib.customers.book import see_customer
    from chalicelib.shop.notify import NotifyFields, ask_to_notify

    request = current_request()
    visitor, query = form_visitor(request.headers), page_query(request.query_params)
    fields = parse_form(request.raw_body, NotifyFields)
    check_form_token(fields.ft, visitor, same_origin=same_origin(request.headers))
    wanted, now = fields.request(query.lang), wiring.utcnow()
    ask_to_notify(wiring.subscriptions(), wiring.catalog(), slug, wanted, now)
    see_customer(wiring.customers(), wiring.numbers(), wanted.email, slug, None, now)
    return responses.see_other(page_path(f"/drops/{slug}", lang=query.lang, m="notify"))


@app.route("/notify/confirm")
@errors.html
def confirm_notify() -> Response:
    from chalicelib.shop.notify import confirm, render_confirmed_page

    request = current_request()
    query = parse_query(request.query_params, PickupPageQuery)
    subscription = confirm(wiring.subscriptions(), query.t, wiring.utcnow())
    drop_catalog = wiring.catalog().drop(subscription.drop)
    nonce = responses.new_nonce()
    body = render_confirmed_page(subscription, drop_catalog, nonce)
    return responses.html(body, nonce=nonce, locale=subscription.locale)


@app.route("/api/drops/{slug}")
@errors.json
def drop_detail(slug: str) -> Response:
    request = current_request()
    query = page_query(request.query_params)
    viewer, now = edge(request.headers), wiring.utcnow()
    shopper = open_drop(wiring.catalog(), slug, viewer, now, with_tokens=True, lang=query.lang, campaign=query.c)
    record_offers(shopper, wiring.numbers())
    cookie = cookie_headers(*shopper.cookies)
    return responses.json_body(payloads.drop_detail(shopper), extra={"Content-Language": shopper.locale, **cookie})


@app.route("/api/drops/{slug}/stock")
@errors.json
def drop_stock(slug: str) -> Response:
    """Live stock for a page that is open: 304 when nothing changed since the ETag it has."""
    page_query(current_request().query_params)
    catalog = wiring.catalog()
    drop_catalog = catalog.drop(checked_slug(slug))
    snapshot = catalog.stock(drop_catalog.drop)
    body = payloads.stock(drop_catalog, snapshot, wiring.utcnow())
    etag, cache = payloads.stock_etag(body), "public, max-age=1"
    if etag in (current_request().headers.get("if-none-match") or "").split(", "):
        return responses.not_modified(etag, cache)
    return responses.json_body(body, cache=cache, extra={"ETag": etag})


@app.route("/api/quote", methods=["POST"], content_types=JSON_BODY)
@errors.json
def quote_basket() -> Response:
    from chalicelib.shop.quotes import QuoteRequest, quote

    request = current_request()
    basket = parse_body(request.raw_body, QuoteRequest)
    viewer = edge(request.headers)
    shopper = open_drop(wiring.catalog(), basket.drop, viewer, wiring.utcnow(), with_tokens=False)
    record_offers(shopper, wiring.numbers())
    cookie = cookie_headers(*shopper.cookies)
    return responses.json_body(quote(shopper, basket), extra=cookie)


@app.route("/t/{qr_token}")
@errors.html
def tryon_page(qr_token: str) -> Response:
    from chalicelib.tryon.page import tryon_context
    from chalicelib.tryon.tags import locate, read_tag
    from chalicelib.tryon.tryons import record_scan

    request = current_request()
    now, catalog = wiring.utcnow(), wiring.catalog()
    place = locate(catalog, read_tag(qr_token))
    viewer = priced_at(place.popup, edge(request.headers))
    query = page_query(request.query_params)
    shopper = open_drop(
        catalog,
        place.slug,
        viewer,
        now,
        with_tokens=False,
        lang=query.lang,
        campaign=query.c,
        scanned_at=place.popup.id,
        pickup_at=place.popup.id,
        channel="popup",
    )
    entry = wiring.rooms().enter(shopper.view.catalog.drop, shopper.visitor.id, viewer.cookie, now)
    if queued := queue_page(shopper, entry, now, f"/t/{qr_token}?lang={shopper.locale}"):
        return queued  # a launch's waiting room queues the pop-up's shoppers too: the stock is the same
    nonce = responses.new_nonce()
    context = tryon_context(shopper, place, public_base_url(viewer), nonce, qr_token, now)
    body = wiring.published().render(shopper.locale, "tryon", context, now)
    record_scan(wiring.tryons(), place, now)
    page_view(place.slug, "tryon")
    record_offers(shopper, wiring.numbers())
    cookies = cookie_headers(*shopper.cookies, *(entry.cookies if entry else ()))
    return responses.html(body, nonce=nonce, locale=shopper.locale, extra=cookies)


@app.route("/api/tryons", methods=["POST"], content_types=JSON_BODY)
@errors.json
def ask_for_tryon() -> Response:
    from chalicelib.tryon.tryons import TryOnRequest, request_tryon

    request = current_request()
    wanted = parse_body(request.raw_body, TryOnRequest)
    viewer, now = edge(request.headers), wiring.utcnow()
    cookie = viewer.cookie
    visitor, new_cookies = identify(cookie, minted=viewer.minted)
    let_in = partial(require_pass, visitor_id=visitor.id, cookie_header=cookie, now=now)  # the launch's waiting room
    body = request_tryon(wiring.tryons(), wiring.stock(), wiring.catalog(), visitor.id, wanted, now, let_in)
    return responses.json_body(body, status=201, extra=cookie_headers(*new_cookies))


@app.route("/api/tryons/{tryon_id}", methods=["DELETE"])
@errors.json
def cancel_tryon(tryon_id: str) -> Response:
    from chalicelib.tryon.tryons import cancel_own_tryon

    visitor, _ = identify(edge(current_request().headers).cookie)
    return responses.json_body(cancel_own_tryon(wiring.tryons(), wiring.stock(), visitor.id, tryon_id, wiring.utcnow()))


@app.route("/api/staff/tryons")
@errors.json
def tryon_queue() -> Response:
    from chalicelib.tills.sales import till_popup
    from chalicelib.tryon.tryons import staff_queue

    popup = till_popup(wiring.tills(), bearer_token(current_request().headers))
    return responses.json_body(staff_queue(wiring.tryons(), wiring.catalog(), popup, wiring.utcnow()))


@app.route("/api/staff/tryons/{tryon_id}", methods=["POST"], content_types=JSON_BODY)
@errors.json
def act_on_tryon(tryon_id: str) -> Response:
    from chalicelib.tills.sales import till_popup
    from chalicelib.tryon.tryons import StaffAction, staff_act

    request = current_request()
    popup = till_popup(wiring.tills(), bearer_token(request.headers))
    step = parse_body(request.raw_body, StaffAction)
    body = staff_act(wiring.tryons(), wiring.stock(), wiring.catalog(), popup, tryon_id, step.action, wiring.utcnow())
    return responses.json_body(body)


@app.route("/api/popups/{popup}/slots")
@errors.json
def pickup_slots(popup: str) -> Response:
    from chalicelib.stock.pickup import SlotsQuery, popup_slots

    query = parse_query(current_request().query_params, SlotsQuery)
    body = popup_slots(wiring.catalog(), wiring.bookings(), popup, query, wiring.utcnow())
    return responses.json_body(body, cache="no-store")


@app.route("/api/holds", methods=["POST"], content_types=JSON_BODY)
@errors.json
def hold_pieces() -> Response:
    from chalicelib.stock.checkout import HoldRequest, hold_summary, place_hold

    request = current_request()
    wanted = parse_body(request.raw_body, HoldRequest)
    viewer = edge(request.headers)
    visitor, new_cookies = identify(viewer.cookie, minted=viewer.minted)
    now = wiring.utcnow()
    require_pass(wiring.catalog().drop(checked_slug(wanted.drop)).drop, visitor.id, edge(request.headers).cookie, now)
    hold = place_hold(wiring.holds(), wiring.catalog(), visitor.id, wanted, wiring.hold_rules(), now)
    return responses.json_body(hold_summary(hold, now), status=201, extra=cookie_headers(*new_cookies))


@app.route("/api/holds/{hold_id}", methods=["DELETE"])
@errors.json
def release_hold(hold_id: str) -> Response:
    from chalicelib.stock.checkout import release_own_hold

    visitor, _ = identify(edge(current_request().headers).cookie)
    return responses.json_body(release_own_hold(wiring.holds(), visitor.id, hold_id, wiring.utcnow()))


@app.route("/api/pickups", methods=["POST"], content_types=JSON_BODY)
@errors.json
def book_pickup_slot() -> Response:
    from chalicelib.customers.book import see_customer
    from chalicelib.stock.pickup import PickupRequest, at_the_popup, book_pickup
    from chalicelib.tryon.conversion import held_for, settle_held

    request = current_request()
    key = idempotency_key(request.headers)
    order = parse_body(request.raw_body, PickupRequest)
    now, catalog = wiring.utcnow(), wiring.catalog()
    viewer = at_the_popup(catalog, order, edge(request.headers))
    channel: Channel = "popup" if order.tryon_id else "online"  # a booking after a try-on is priced as the pop-up's
    shopper = open_drop(catalog, order.drop, viewer, now, with_tokens=False, pickup_at=order.popup, channel=channel)
    if order.hold_id is None and order.tryon_id is None:  # a hold or a try-on was let in when it was taken
        require_pass(shopper.view.catalog.drop, shopper.visitor.id, viewer.cookie, now)
    holding = held_for(wiring.holds(), wiring.tryons(), order, shopper.visitor.id, now)
    answer = book_pickup(wiring.bookings(), wiring.stock(), shopper, order, key, now, holding)
    if not answer.replayed:
        settle_held(wiring.holds(), wiring.tryons(), order, shopper.visitor.id, answer, now)
        see_customer(wiring.customers(), wiring.numbers(), order.contact.email, order.drop, order.popup, now)
    record_offers(shopper, wiring.numbers())
    replayed = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return responses.json_body(answer.body, status=201, extra={**cookie_headers(*shopper.cookies), **replayed})


@app.route("/api/pickups/{code}", methods=["DELETE"])
@errors.json
def cancel_pickup_booking(code: str) -> Response:
    from chalicelib.stock.pickup import cancel_pickup, checked_code

    token = bearer_token(current_request().headers)
    return responses.json_body(cancel_pickup(wiring.bookings(), checked_code(code), token, wiring.utcnow()))


@app.route("/pickups/{code}")
@errors.html
def pickup_page(code: str) -> Response:
    from chalicelib.stock.page import pickup_context
    from chalicelib.stock.pickup import authorized_booking, checked_code

    request = current_request()
    query = parse_query(request.query_params, PickupPageQuery)
    booking = authorized_booking(wiring.bookings(), checked_code(code), query.t)
    drop_catalog = wiring.catalog().drop(booking.drop)
    locale = negotiate(query.lang, edge(request.headers).accept_language, UI_LOCALES, "en")
    nonce = responses.new_nonce()
    context = pickup_context(booking, drop_catalog, locale, nonce, query.t)
    body = wiring.published().render(locale, "pickup", context, wiring.utcnow())
    return responses.html(body, nonce=nonce, locale=locale)


@app.route("/pickups/{code}/cancel", methods=["POST"], content_types=FORM_BODY)
@errors.html
def cancel_pickup_from_page(code: str) -> Response:
    """The confirmation page's cancel form (behind its "are you sure"): back to the page, now cancelled."""
    from chalicelib.stock.pickup import CancelForm, cancel_pickup, checked_code

    request = current_request()
    form_visitor(request.headers)  # only the shop's own page may post it
    token = parse_form(request.raw_body, CancelForm).t
    booking = cancel_pickup(wiring.bookings(), checked_code(code), token, wiring.utcnow())
    lang = page_query(request.query_params).lang
    return responses.see_other(page_path(f"/pickups/{booking['code']}", t=token, lang=lang))


@app.route("/pickups/{code}/calendar.ics")
@errors.html
def pickup_calendar(code: str) -> Response:
    from chalicelib.stock.calendar import ics
    from chalicelib.stock.page import pickup_event
    from chalicelib.stock.pickup import authorized_booking, checked_code

    request = current_request()
    query = parse_query(request.query_params, PickupPageQuery)
    booking = authorized_booking(wiring.bookings(), checked_code(code), query.t)
    locale = negotiate(query.lang, edge(request.headers).accept_language, UI_LOCALES, "en")
    page = f"{public_base_url(edge(request.headers))}/pickups/{booking.code}?t={query.t}"
    event = pickup_event(booking, wiring.catalog().drop(booking.drop), locale, page)
    return responses.download(ics(event), "text/calendar; charset=utf-8", f"pickup-{booking.code}.ics")


@app.route("/api/staff/pickups/{code}", methods=["POST"], content_types=JSON_BODY)
@errors.json
def mark_pickup_booking(code: str) -> Response:
    from chalicelib.stock.pickup import StaffMark, checked_code, mark_pickup
    from chalicelib.tills.sales import till_popup

    request = current_request()
    popup = till_popup(wiring.tills(), bearer_token(request.headers))
    mark = parse_body(request.raw_body, StaffMark)
    return responses.json_body(mark_pickup(wiring.bookings(), checked_code(code), popup, mark.state, wiring.utcnow()))


@app.route("/api/pos/sales", methods=["POST"], content_types=JSON_BODY)
@errors.json
def till_sales() -> Response:
    from chalicelib.customers.book import see_customers
    from chalicelib.tills.sales import SalesBatch, apply_sales

    batch = till_batch(SalesBatch)
    sightings: list[Sighting] = []  # the receipts' customers, seen once the sales are in
    report = apply_sales(wiring.catalog(), wiring.stock(), batch, wiring.utcnow(), wiring.tryons(), sightings.append)
    see_customers(wiring.customers(), wiring.numbers(), sightings)
    return responses.json_body(report.__dict__)


@app.route("/api/pos/returns", methods=["POST"], content_types=JSON_BODY)
@errors.json
def till_returns() -> Response:
    from chalicelib.tills.returns import ReturnsBatch, apply_returns

    batch = till_batch(ReturnsBatch)
    report = apply_returns(wiring.catalog(), wiring.returns(), wiring.bookings(), batch, wiring.utcnow())
    return responses.json_body(report.__dict__)


@app.route("/api/pos/footfall", methods=["POST"], content_types=JSON_BODY)
@errors.json
def till_footfall() -> Response:
    from chalicelib.tills.sales import FootfallBatch, record_footfall

    return responses.json_body(record_footfall(wiring.catalog(), wiring.tills(), till_batch(FootfallBatch)))


def till_batch[Batch: (SalesBatch, ReturnsBatch, FootfallBatch)](model: type[Batch]) -> Batch:
    """The till's batch, once its token is known and the pop-up it names is the token's."""
    from chalicelib.tills.sales import for_till, till_popup

    request = current_request()
    popup = till_popup(wiring.tills(), bearer_token(request.headers))
    return for_till(popup, parse_body(request.raw_body, model, MAX_TILL_BODY_BYTES))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def minute_sweep(event: object) -> None:
    sweep(wiring.utcnow())


def sweep(now: datetime) -> None:
    """Release holds that expired without anyone needing their stock (the next buyer would), even out
    sharded stock (``stock/rebalance.py``), keep the edge's drop documents current, record
    scheduled template publishes whose time has come (pages already show them), queue notify-me
    messages whose moment has come, and send the outbox's due messages. `make run` calls it every
    minute too."""
    from chalicelib.edge.sync import sync_edge
    from chalicelib.outbox.sender import send_due
    from chalicelib.shop.notify import queue_notifications
    from chalicelib.stock.holds import sweep_expired_holds
    from chalicelib.stock.messages import render_email
    from chalicelib.stock.rebalance import rebalance_drops

    sweep_expired_holds(wiring.catalog(), wiring.stock(), now)
    rebalance_drops(wiring.catalog(), wiring.stock(), now)
    if (edge_store := wiring.edge_store()) is not None:
        sync_edge(edge_store, edge_keys(signing_keys()), wiring.catalog(), now)
    promote_due(wiring.templates(), now)
    base = settings().public_url or ""
    bookings, subscriptions, catalog = wiring.bookings(), wiring.subscriptions(), wiring.catalog()
    queue_notifications(subscriptions, catalog, now)
    report = send_due(
        wiring.outbox(), wiring.mailer(), lambda r: render_email(r, bookings, subscriptions, catalog, base), now
    )
    telemetry.outbox_sent(report.sent, report.skipped, report.retried, report.failed)


@app.lambda_function(name="edge_logs")
def edge_logs(event: dict[str, Any], context: Any) -> dict[str, dict[str, int]]:
    """CloudFront's access log files as they land in the logs bucket: the first views of landing pages
    they hold join the experiments' samples (a page kept for a segment knows no visitor)."""
    logs = wiring.access_logs()
    lines = [
        line
        for record in event.get("Records", [])
        for line in logs.lines(record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
    ]
    return record_first_views(lines)


def record_first_views(lines: Iterable[str]) -> dict[str, dict[str, int]]:
    """Count the log's first views in their cells' samples; what was added, per drop."""
    from chalicelib.numbers.first_views import exposures, first_views

    store = wiring.catalog_store()
    policies: dict[str, tuple[Experiment, ...]] = {}

    def experiments_of(slug: str) -> tuple[Experiment, ...]:
        if slug not in policies:
            policy = store.pricing_policy(slug)
            policies[slug] = policy.experiments if policy else ()
        return policies[slug]

    added = exposures(first_views(lines), experiments_of)
    for slug, counts in added.items():
        wiring.numbers().add(slug, counts)
    logger.info("first views counted from the edge's log", extra={"drops": sorted(added)})
    return added


@app.lambda_function(name="studio")
def studio(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The studio (Starlette behind Mangum), reached by its own function URL or HTTP API. Imported on
    first use, so the shopper function's cold start never pays for Starlette."""
    from chalicelib.studio.lambda_handler import handle

    return handle(event, context)


gc.freeze()  # what the imports built, out of every later collection (see the module's docstring)
gc.enable()
