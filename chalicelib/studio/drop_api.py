"""The studio's JSON API for drops (``/studio/api/drops``): read a drop, its pricing, its audit log
and its numbers; change the drop and its pricing with the same fields, checks, conflicts and audit
entries as the studio's forms (``drop_views.edit_drop`` and ``change_policy``), so a PIM sync or a
script does what a marketer would. A session's writes carry its CSRF token in ``X-CSRF-Token``.
Documented in studio-openapi.yaml.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from pydantic import ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from chalicelib import wiring
from chalicelib.core import records
from chalicelib.core.audit import AuditEntry
from chalicelib.core.errors import NotFound
from chalicelib.core.model import Model
from chalicelib.core.models import iso
from chalicelib.studio import drops, pricing, rule_forms
from chalicelib.studio.audit_views import MOST_SHOWN, AuditQuery
from chalicelib.studio.auth import Principal, Role, check_csrf
from chalicelib.studio.batches import BatchPlan, plan_batch, receive_batch
from chalicelib.studio.drop_views import change_policy, edit_drop, import_state, studio_drop
from chalicelib.studio.numbers_views import NumbersRead, drop_numbers
from chalicelib.studio.restock import Restock, add_stock
from chalicelib.studio.web import json_answer, principal_of
from chalicelib.web.request import parse_body, parse_query

CSRF_HEADER = "x-csrf-token"
MAX_BODY = 256 * 1024
FieldText = Annotated[str, Field(max_length=32 * 1024)]


class DropEdit(Model):
    """The drop edit form's fields, as ``GET`` gives them, with the revision they were read at."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    revision: int
    fields: dict[Annotated[str, Field(max_length=120)], FieldText] = Field(max_length=1_000)


class PricingChange(Model):
    """One pricing form: ``action`` and its fields, as ``GET …/pricing`` gives them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=0)
    action: str = Field(pattern=r"^(guardrail|override|unoverride|offers|rules)$")
    fields: dict[Annotated[str, Field(max_length=120)], FieldText] = Field(default={}, max_length=1_200)


def _writer(request: Request, role: Role) -> Principal:
    """A principal with ``role`` whose request, if it came with the session cookie, carries the
    session's CSRF token (the role is checked first: a missing role is the clearer refusal)."""
    principal = principal_of(request)
    principal.require(role)
    check_csrf(principal, request.headers.get(CSRF_HEADER))
    return principal


def _entry(entry: AuditEntry) -> dict[str, Any]:
    return {
        "who": entry.who,
        "kind": entry.action,
        "summary": entry.summary,
        "at": entry.at,
        "changes": [asdict(change) for change in entry.changes],
    }


async def list_drops(request: Request) -> Response:
    """``[{slug, name (per locale), published, starts_at, ends_at, revision, zone}]``."""
    principal_of(request)
    store = wiring.catalog_store()
    catalogs = [c for c in (store.drop_catalog(d.slug) for d in store.drops()) if c]
    return json_answer(
        [
            {
                "slug": c.drop.slug,
                "name": dict(c.drop.name),
                "published": c.drop.published,
                "starts_at": iso(c.drop.starts_at),
                "ends_at": iso(c.drop.ends_at),
                "revision": c.drop.revision,
                "zone": c.drop.default_market.timezone,
            }
            for c in catalogs
        ]
    )


async def get_drop(request: Request) -> Response:
    """``{slug, revision, zone, fields, catalog}``: the edit form's fields in the merchant's units
    (what ``PUT`` takes back), and the whole stored catalog."""
    principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    fields = drops.form_values(catalog)
    del fields["revision"]
    return json_answer(
        {
            "slug": catalog.drop.slug,
            "revision": catalog.drop.revision,
            "zone": catalog.drop.default_market.timezone,
            "fields": fields,
            "catalog": records.dump(catalog, mode="json"),
        }
    )


async def put_drop(request: Request) -> Response:
    """Save the edit form's ``fields`` (any left out keep their value): ``{revision, summary,
    changes}``; 409 on a stale revision, 422 with each problem on its field."""
    principal = _writer(request, Role.EDITOR)
    catalog = studio_drop(request.path_params["slug"])
    edit = parse_body(await request.body(), DropEdit, MAX_BODY)
    current = drops.form_values(catalog)
    entry = edit_drop(principal, catalog, {**current, **edit.fields, "revision": str(edit.revision)})
    saved = studio_drop(catalog.drop.slug)
    return json_answer({"revision": saved.drop.revision, **_entry(entry)})


async def add_stock_api(request: Request) -> Response:
    """``{sku, size, location, qty}``: add units to the drop's live stock, audited; ``{who, kind,
    summary, at, changes, on_hand}``; 422 with each problem on its field."""
    principal = _writer(request, Role.EDITOR)
    catalog = studio_drop(request.path_params["slug"])
    delivery = parse_body(await request.body(), Restock, MAX_BODY)
    entry, on_hand = add_stock(principal, catalog, {k: str(v) for k, v in delivery.model_dump().items()})
    return json_answer({**_entry(entry), "on_hand": on_hand})


async def plan_batch_api(request: Request) -> Response:
    """``{sku, location, ready_on, units: {size: n}}``: record a production batch, audited; the
    audit entry; 422 with each problem on its field. ``GET`` the drop for its id (``catalog.batches``)."""
    principal = _writer(request, Role.EDITOR)
    catalog = studio_drop(request.path_params["slug"])
    plan = parse_body(await request.body(), BatchPlan, MAX_BODY)
    return json_answer(_entry(plan_batch(principal, catalog, plan.model_dump(mode="json"))))


async def receive_batch_api(request: Request) -> Response:
    """The batch arrived: its units join the stock at its place, once (409 ``batch_received`` after);
    the audit entry, with the units on hand before and after for each size."""
    principal = _writer(request, Role.EDITOR)
    catalog = studio_drop(request.path_params["slug"])
    return json_answer(_entry(receive_batch(principal, catalog, request.path_params["batch"])))


async def get_pricing(request: Request) -> Response:
    """``{version, policy, guardrail, offers}``: the stored policy, and the guardrail and offers
    forms' fields in percent and money (what ``POST`` takes)."""
    principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    policy = wiring.catalog_store().pricing_policy(catalog.drop.slug)
    return json_answer(
        {
            "version": policy.version if policy else 0,
            "policy": records.dump(policy, mode="json") if policy else None,
            "guardrail": pricing.guardrail_form(policy, None),
            "offers": rule_forms.form_values(policy),
        }
    )


async def post_pricing(request: Request) -> Response:
    """Apply one pricing form as the next policy version: ``{version, summary, changes}``."""
    principal = _writer(request, Role.PUBLISHER)
    catalog = studio_drop(request.path_params["slug"])
    change = parse_body(await request.body(), PricingChange, MAX_BODY)
    policy = wiring.catalog_store().pricing_policy(catalog.drop.slug)
    shown = {"guardrail": pricing.guardrail_form(policy, None), "offers": rule_forms.form_values(policy)}
    # A form's fields left out keep what the policy has, as if the page had been sent untouched.
    fields = {**shown.get(change.action, {}), **change.fields, "action": change.action, "version": str(change.version)}
    entry = change_policy(principal, catalog, fields)
    saved = wiring.catalog_store().pricing_policy(catalog.drop.slug)
    return json_answer({"version": saved.version if saved else 0, **_entry(entry)})


async def drop_audit(request: Request) -> Response:
    """``[{who, kind, summary, at, changes: [{field, before, after}]}]``, newest first (``?who=&kind=``)."""
    principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    query = parse_query(request.query_params, AuditQuery)
    entries = wiring.audit().log(catalog.drop.slug, MOST_SHOWN, who=query.who or None, action=query.kind or None)
    return json_answer([_entry(entry) for entry in entries])


async def drop_numbers_api(request: Request) -> Response:
    """``{table: {title, columns, rows}}``: each table the numbers page draws."""
    principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    tables = drop_numbers(NumbersRead(catalog))
    return json_answer(
        {
            name: {"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
            for name, t in tables.items()
        }
    )


async def latest_import(request: Request) -> Response:
    """``{state, by, done, total, summary, started_at, ended_at}`` of the drop's latest import
    (``state``: running, stopped, failed or live; times UTC); 404 if it never had one."""
    principal_of(request)
    catalog = studio_drop(request.path_params["slug"])
    job = wiring.product_imports().import_job(catalog.drop.slug)
    if job is None:
        raise NotFound(f"{catalog.drop.slug} has never had an import.", code="import_not_found")
    return json_answer(
        {
            "state": import_state(job, wiring.utcnow()),
            "by": job.by,
            "done": job.done,
            "total": job.total,
            "summary": job.summary,
            "started_at": iso(job.started_at),
            "ended_at": iso(job.ended_at) if job.ended_at else None,
        }
    )
