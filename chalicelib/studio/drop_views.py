"""The studio's drop pages: create and edit a drop, import its products and stock from CSV (with a
progress bar), its pricing (guardrail, overrides, rules and experiments) with the audit log, and
its numbers as SVG charts with CSV export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from chalicelib import wiring
from chalicelib.config import settings
from chalicelib.core.audit import AuditEntry, FieldChange
from chalicelib.core.errors import Conflict, DomainError, InvalidInput, NotFound, Unprocessable
from chalicelib.core.models import PRODUCT_IMAGE_WIDTHS, Drop, DropCatalog, iso
from chalicelib.pricing.engine import conversion_bps
from chalicelib.shop.shopper import checked_slug
from chalicelib.shop.storefront import popup_currency
from chalicelib.stock.ports import ImportJob
from chalicelib.stock.shards import TAKES_PER_SHARD_SECOND, suggested_shards
from chalicelib.studio import audit_views, drops, pricing, rule_forms
from chalicelib.studio.auth import Principal, Role, check_csrf
from chalicelib.studio.batches import plan_batch, plan_from_form, receive_batch
from chalicelib.studio.imports import CatalogImport, run_import, template_csv
from chalicelib.studio.pictures import PictureUpload, with_picture
from chalicelib.studio.restock import add_stock
from chalicelib.studio.warmup import keep_warm, warm_words
from chalicelib.studio.web import checked_form, done, flash_of, page, principal_of, wants_page
from chalicelib.waiting.room import QUEUE_LEAD, frontier, room_closes
from chalicelib.web import responses
from chalicelib.web.errors import status_for
from chalicelib.web.request import parse_body

MAX_CSV_BYTES = 5 * 1024 * 1024
NDJSON = "application/x-ndjson"


def studio_drop(slug: str) -> DropCatalog:
    """The drop as stored, published or not, never from a cache."""
    found = wiring.catalog_store().drop_catalog(checked_slug(slug))
    if found is None:
        raise NotFound(f"There is no drop called {slug!r}.", code="drop_not_found")
    return found


def _audit(
    principal: Principal, slug: str, action: str, summary: str, changes: tuple[FieldChange, ...] = ()
) -> AuditEntry:
    return AuditEntry(slug, principal.subject, action, summary, iso(wiring.utcnow()), changes)


def _audit_rows(catalog: DropCatalog) -> list[audit_views.AuditRow]:
    """The drop's newest changes, times in its zone."""
    return audit_views.rows(wiring.audit().log(catalog.drop.slug), catalog.drop.default_market.timezone)


def _drop_page(
    principal: Principal,
    catalog: DropCatalog,
    values: Mapping[str, str],
    found: Any,
    status: int,
    flash: str | None = None,
    restock: Mapping[str, str] | None = None,
    batch: Mapping[str, str] | None = None,
) -> Response:
    return page(
        "drop.html",
        status=status,
        principal=principal,
        catalog=catalog,
        values=values,
        problems=[{"label": drops.field_label(catalog, p.get("field", "form")), **p} for p in found],
        audit=_audit_rows(catalog),
        zone=catalog.drop.default_market.timezone,
        can_edit=Role.EDITOR in principal.roles,
        shop_url=settings().public_url or "",
        widths=PRODUCT_IMAGE_WIDTHS,
        flash=flash,
        warm=warm_words(catalog.drop, catalog.drop.default_market.timezone),
        room=room_words(catalog.drop, catalog.drop.default_market.timezone, wiring.utcnow()),
        shards_hint=shards_words(catalog),
        restock=restock or {},
        batch=batch or {},
        batch_rows=batch_rows(catalog),
        sizes=list(dict.fromkeys(size for sku in catalog.skus for size in sku.sizes)),
        popup_currencies={p.id: popup_currency(catalog, p) for p in catalog.locations if p.kind == "popup"},
    )


def shards_words(catalog: DropCatalog) -> str:
    """What the stock records setting means for this drop's launch, with the count its waiting room's
    rate calls for (``suggested_shards``)."""
    room = catalog.drop.waiting_room
    sizes = sum(len(sku.sizes) for sku in catalog.skus) * max(len(catalog.drop.location_ids), 1)
    per = f"One record takes about {TAKES_PER_SHARD_SECOND} purchases a second."
    if room is None:
        return f"{per} With no waiting room, the crowd decides the rate: raise this before a busy launch."
    enough = suggested_shards(room.admit_per_minute, sizes)
    return (
        f"{per} Letting in {room.admit_per_minute:,} shoppers a minute over {sizes} sizes and places, "
        f"{enough} per size {'is' if enough == 1 else 'are'} enough."
    )


def room_words(drop: Drop, zone: str, now: datetime) -> str | None:
    """The drop's waiting room in words, in ``zone``'s time: when it is on, and how many came and
    were let in so far (from the arrivals the shop's pages counted)."""
    room = drop.waiting_room
    if room is None:
        return None
    queue_from, closes = drop.starts_at - QUEUE_LEAD, room_closes(drop)
    words = (
        f"Shoppers get their place from {drops.local_time(queue_from, zone)}; from the start they are let in "
        f"{room.admit_per_minute:,} a minute, until {drops.local_time(closes, zone)}."
    )
    counts = wiring.arrivals().arrivals(drop.slug, int(queue_from.timestamp()))
    if counts:
        let_in = frontier(counts, drop.starts_at, room.admit_per_minute, min(now, closes))
        words += f" So far {sum(counts.values()):,} came and about {int(let_in):,} were let in."
    return words


async def drop_page(request: Request) -> Response:
    principal = principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    return _drop_page(principal, catalog, drops.form_values(catalog), [], 200, flash=flash_of(request))


def edit_drop(principal: Principal, catalog: DropCatalog, fields: Mapping[str, str]) -> AuditEntry:
    """Save the drop edit form's ``fields`` (its ``revision`` the one they were read at) with an
    audit entry naming each changed field; 409 if someone saved since, 422 with every problem.
    The studio's page and its JSON API both save through here."""
    principal.require(Role.EDITOR)
    if str(catalog.drop.revision) != fields.get("revision"):
        raise Conflict("Someone else saved this drop since you opened it. Reload and try again.", code="edit_conflict")
    edited = drops.edited(catalog, fields, wiring.utcnow())
    changed = drops.changes(catalog, edited)
    summary = f"{len(changed)} field{'' if len(changed) == 1 else 's'} changed" if changed else "saved unchanged"
    entry = _audit(principal, catalog.drop.slug, "drop", summary, changed)
    wiring.catalog_store().save_drop(edited, entry)
    keep_warm(edited.drop)
    if edited.drop.stock_shards != catalog.drop.stock_shards:  # spread (or gather) the units now, not next minute
        wiring.stock().rebalance(edited.drop.slug, edited.drop.generation, edited.drop.stock_shards)
    return entry


async def save_drop(request: Request) -> Response:
    principal = principal_of(request)
    form = await checked_form(request, principal, max_fields=1_000)
    catalog = studio_drop(request.path_params["slug"])
    try:
        edit_drop(principal, catalog, form)
    except Unprocessable as refused:
        if not wants_page(request):
            raise
        return _drop_page(principal, catalog, form, refused.details, 422)
    return done(f"/studio/drops/{catalog.drop.slug}", "drop-saved")


MAX_PICTURE_BODY = 2 * 1024 * 1024


async def restock_form(request: Request) -> Response:
    """``POST /studio/drops/{slug}/stock``: the drop page's "Add stock" form."""
    principal = principal_of(request)
    form = await checked_form(request, principal)
    catalog = studio_drop(request.path_params["slug"])
    try:
        add_stock(principal, catalog, {name: value for name, value in form.items() if name != "csrf"})
    except Unprocessable as refused:
        if not wants_page(request):
            raise
        return _drop_page(principal, catalog, drops.form_values(catalog), refused.details, 422, restock=form)
    return done(f"/studio/drops/{catalog.drop.slug}", "restocked")


def batch_rows(catalog: DropCatalog) -> list[dict[str, str]]:
    """The drop's production batches as the page lists them, each date named with its place's zone."""
    zones = {place.id: place.timezone for place in catalog.locations}
    return [
        {
            "id": batch.id,
            "sku": batch.sku,
            "units": ", ".join(f"{size} × {qty}" for size, qty in batch.units.items()),
            "location": batch.location,
            "ready_on": f"{batch.ready_on.isoformat()} ({zones.get(batch.location, 'UTC')})",
            "received": drops.local_time(batch.received_at, zones.get(batch.location, "UTC")),
        }
        for batch in catalog.batches
    ]


async def batch_form(request: Request) -> Response:
    """``POST /studio/drops/{slug}/batches``: the drop page's "Production batch" form."""
    principal = principal_of(request)
    form = await checked_form(request, principal)
    catalog = studio_drop(request.path_params["slug"])
    fields = {name: value for name, value in form.items() if name != "csrf"}
    try:
        plan_batch(principal, catalog, plan_from_form(fields))
    except Unprocessable as refused:
        if not wants_page(request):
            raise
        return _drop_page(principal, catalog, drops.form_values(catalog), refused.details, 422, batch=fields)
    return done(f"/studio/drops/{catalog.drop.slug}", "batch-planned")


async def batch_received_form(request: Request) -> Response:
    """``POST /studio/drops/{slug}/batches/{batch}/received``: a planned batch's "Received" button."""
    principal = principal_of(request)
    await checked_form(request, principal)
    catalog = studio_drop(request.path_params["slug"])
    receive_batch(principal, catalog, request.path_params["batch"])
    return done(f"/studio/drops/{catalog.drop.slug}", "batch-received")


async def set_picture(request: Request) -> Response:
    """``POST /studio/api/drops/{slug}/skus/{sku}/picture`` ``{csrf, revision, pictures: {width: base64 WebP}}``:
    the SKU's picture, stored and shown on the drop's pages. 409 if the drop changed since it was read."""
    principal = principal_of(request)
    principal.require(Role.EDITOR)
    body = await request.body()
    if len(body) > MAX_PICTURE_BODY:
        raise InvalidInput("The pictures are larger than 2 MB together.", code="body_too_large")
    upload = parse_body(body, PictureUpload, MAX_PICTURE_BODY)
    check_csrf(principal, upload.csrf)
    catalog = studio_drop(request.path_params["slug"])
    if catalog.drop.revision != upload.revision:
        raise Conflict("Someone else saved this drop since you opened it. Reload and try again.", code="edit_conflict")
    sku = request.path_params["sku"]
    edited = with_picture(catalog, sku, upload, wiring.media())
    image = next(s.image for s in edited.skus if s.sku == sku)
    saved = wiring.catalog_store().save_drop(
        edited, _audit(principal, catalog.drop.slug, "picture", f"{sku}: new picture")
    )
    body_out = {"sku": sku, "image": image, "revision": saved.drop.revision}
    return JSONResponse(body_out, headers={**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE})


async def create_drop(request: Request) -> Response:
    principal = principal_of(request)
    form = await checked_form(request, principal)
    principal.require(Role.EDITOR)
    template = studio_drop(form.get("copy_from", ""))
    created = drops.new_drop(template, form, wiring.utcnow())
    audit = _audit(principal, created.drop.slug, "create", f"created from {template.drop.slug}, unpublished")
    wiring.catalog_store().save_drop(created, audit, create=True)
    return done(f"/studio/drops/{created.drop.slug}", "drop-created")


# --- CSV import -----------------------------------------------------------------------------------


async def import_page(request: Request) -> Response:
    principal = principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    columns = ",".join(CatalogImport(catalog).required_columns())
    job = wiring.product_imports().import_job(catalog.drop.slug)
    last = None if job is None else _last_import(job, catalog.drop.default_market.timezone, wiring.utcnow())
    return page("import.html", principal=principal, catalog=catalog, columns=columns, last=last)


async def import_template(request: Request) -> Response:
    """``GET /studio/drops/{slug}/import/template.csv``: the drop as an import file to edit."""
    principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    available = wiring.catalog_store().available_stock(catalog.drop.slug, catalog.drop.generation).available
    headers = {
        **private_headers(),
        "Content-Disposition": f'attachment; filename="{catalog.drop.slug}-import.csv"',
    }
    return Response(template_csv(catalog, available), media_type="text/csv; charset=utf-8", headers=headers)


def import_state(job: ImportJob, now: datetime) -> str:
    """running, stopped (a staging job silent too long), failed or live."""
    if job.state == "staging":
        return "running" if job.running(now) else "stopped"
    return str(job.state)


def _last_import(job: ImportJob, zone: str, now: datetime) -> dict[str, Any]:
    """The drop's latest import as the page says it, its times in the drop's zone, named."""
    return {
        "state": import_state(job, now),
        "by": job.by,
        "done": job.done,
        "total": job.total,
        "summary": job.summary[:1].upper() + job.summary[1:],
        "started": drops.local_time(job.started_at, zone),
        "ended": drops.local_time(job.ended_at, zone),
    }


async def import_csv(request: Request) -> Response:
    """The CSV as the request body. With ``Accept: application/x-ndjson`` the answer streams one
    JSON line per progress step and ends with the outcome (an error envelope if it failed);
    otherwise it is one JSON answer with the usual status codes."""
    principal = principal_of(request)
    check_csrf(principal, request.headers.get("x-csrf-token"))
    principal.require(Role.EDITOR)
    catalog = studio_drop(request.path_params["slug"])
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CSV_BYTES:
            raise InvalidInput("The CSV is larger than 5 MB.", code="body_too_large")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The CSV must be UTF-8 text.", code="invalid_csv") from None
    slug = catalog.drop.slug
    steps = run_import(
        wiring.product_imports(),
        catalog,
        text,
        lambda summary: _audit(principal, slug, "import", summary),
        wiring.utcnow,
    )
    if NDJSON not in request.headers.get("accept", ""):
        outcome = [step for step in steps if isinstance(step, dict)]
        return JSONResponse(outcome[-1], headers=private_headers())

    def lines() -> Iterator[str]:
        try:
            for step in steps:
                line = step if isinstance(step, dict) else step.__dict__
                yield json.dumps(line) + "\n"
        except DomainError as error:
            envelope = responses.error_envelope(error.code, error.message, error.details)
            yield json.dumps({**envelope, "status": status_for(error)}) + "\n"

    return StreamingResponse(lines(), media_type=NDJSON, headers=private_headers())


def private_headers() -> dict[str, str]:
    return {**responses.BASE_HEADERS, "Cache-Control": responses.PRIVATE}


# --- pricing ----------------------------------------------------------------------------------------


MAX_PRICING_FIELDS = 1200
"""The offers form: up to 40 rules (budget per currency), markdowns and experiments of cells."""


def _pricing_page(
    principal: Principal,
    catalog: DropCatalog,
    status: int = 200,
    *,
    problems: list[dict[str, str]] | None = None,
    sent: Mapping[str, str] | None = None,
    flash: str | None = None,
) -> Response:
    """The pricing page; after a refused change, ``sent`` is what was typed (shown again, so fixing
    one field is one edit) and ``problems`` are shown beside their fields."""
    policy = wiring.catalog_store().pricing_policy(catalog.drop.slug)
    typed = sent or {}
    currencies = sorted({m.currency for m in catalog.drop.markets})
    return page(
        "pricing.html",
        status=status,
        principal=principal,
        catalog=catalog,
        policy=policy,
        rules=typed.get("rules") or pricing.rules_json(policy),
        problems=problems or [],
        sent=typed,
        guardrail=pricing.guardrail_form(policy, typed if typed.get("action") == "guardrail" else None),
        offers=typed if typed.get("action") == "offers" else rule_forms.form_values(policy),
        rows=rule_forms.row_counts(policy, typed if typed.get("action") == "offers" else None),
        budget_currencies=rule_forms.budget_currencies(policy, currencies),
        budget_kinds=rule_forms.BUDGET_WORDS,
        budget_rows=rule_forms.BUDGET_ROWS,
        budget_use=pricing.budget_use(wiring.catalog_store().cohort_spend(catalog.drop.slug), catalog),
        segment_kinds=pricing.SEGMENT_KINDS,
        urgency_words=pricing.URGENCY_WORDS,
        channel_words=pricing.CHANNEL_WORDS,
        popups=[loc for loc in catalog.locations if loc.kind == "popup"],
        signals=signals_today(catalog),
        stacking_words=pricing.STACKING_WORDS,
        overrides=pricing.override_rows(policy, catalog.drop.default_market.timezone),
        flash=flash,
        audit=_audit_rows(catalog),
        currencies=currencies,
        can_publish=Role.PUBLISHER in principal.roles,
        zone=catalog.drop.default_market.timezone,
    )


async def pricing_page(request: Request) -> Response:
    return _pricing_page(principal_of(request), studio_drop(request.path_params["slug"]), flash=flash_of(request))


def signals_today(catalog: DropCatalog) -> list[tuple[str, str]]:
    """What a pop-up's markdown stage reads there now, in words, per pop-up: the share of what was
    sent there that sold, and today's footfall, till units and conversion (its local day)."""
    shop, now = wiring.catalog(), wiring.utcnow()
    stock = shop.stock(catalog.drop, read_now=True)
    shown = []
    for place in (loc for loc in catalog.locations if loc.kind == "popup"):
        day, there = shop.popup_day(catalog.drop, place, now), stock.place_sell_through(place.id)
        through = f"{day.footfall:,} through the door" if day.footfall else "nobody counted through the door yet"
        rate = conversion_bps(day.till_units, day.footfall)
        conversion = "" if rate is None else f" ({pricing.percent(rate)} conversion)"
        sold_there = "nothing sent there" if there is None else pricing.percent(there)
        name = drops.place_name(catalog, place.id)
        words = f"{through}, {day.till_units:,} sold at the till{conversion}; sold through there: {sold_there}"
        shown.append((name, words))
    return shown


def change_policy(principal: Principal, catalog: DropCatalog, fields: Mapping[str, str]) -> AuditEntry:
    """Apply one pricing form (``action``: guardrail, override, unoverride, offers, or rules as
    JSON; ``version`` the policy version it was read at) as the next policy version, audited; 409
    if the policy moved since, 422 with every problem. The page and the JSON API share it."""
    principal.require(Role.PUBLISHER)
    slug, now = catalog.drop.slug, wiring.utcnow()
    policy = wiring.catalog_store().pricing_policy(slug)
    if str(policy.version if policy else 0) != fields.get("version"):
        raise Conflict("The pricing changed since you opened it. Reload and try again.", code="edit_conflict")
    zone = catalog.drop.default_market.timezone
    costs = {sku.sku: sku.costs for sku in catalog.skus}
    actions: dict[str, Callable[[], pricing.PolicyChange]] = {
        "guardrail": lambda: pricing.with_guardrail(policy, fields),
        "override": lambda: pricing.with_override(policy, fields, principal.subject, zone, now, costs),
        "unoverride": lambda: pricing.without_override(policy, fields, zone),
        "rules": lambda: pricing.with_rules(policy, fields.get("rules", "")),
        "offers": lambda: pricing.with_sections(pricing.needs(policy), *rule_forms.sections_from(fields)),
    }
    action = actions.get(fields.get("action", ""))
    if action is None:
        raise Unprocessable(f"Choose one of {', '.join(actions)} as the action.", code="invalid_form")
    change = action()
    popups = {loc.id for loc in catalog.locations if loc.kind == "popup"}
    if unknown := sorted({s.location for s in change.policy.markdowns if s.location} - popups):
        raise Unprocessable(
            f"A markdown names {', '.join(unknown)}, which is not one of this drop's pop-ups "
            f"({', '.join(sorted(popups)) or 'it has none'}).",
            code="unknown_popup",
        )
    entry = _audit(principal, slug, "pricing", f"v{change.policy.version} {change.summary}", change.changes)
    wiring.catalog_store().put_pricing_policy(slug, change.policy, entry)
    return entry


async def change_pricing(request: Request) -> Response:
    principal = principal_of(request)
    form = await checked_form(request, principal, max_fields=MAX_PRICING_FIELDS)
    catalog = studio_drop(request.path_params["slug"])
    try:
        change_policy(principal, catalog, form)
    except Unprocessable as refused:
        if not wants_page(request):
            raise
        found = [{"field": "form", "problem": refused.message}, *(refused.details or [])]
        return _pricing_page(principal, catalog, 422, problems=found, sent=form)
    return done(f"/studio/drops/{catalog.drop.slug}/pricing", "pricing-saved")
