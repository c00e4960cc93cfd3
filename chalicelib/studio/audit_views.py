"""The studio's audit log as people read it: who changed what and when, each changed field before
and after, times in a zone the reader picks (named), and the whole studio's log filtered by drop,
person and kind at ``/studio/audit``."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from chalicelib import wiring
from chalicelib.core.audit import AuditEntry, FieldChange
from chalicelib.core.model import Model
from chalicelib.core.models import Slug
from chalicelib.studio.drops import checked_zone, local_time, studio_zones
from chalicelib.studio.web import page, principal_of
from chalicelib.web.request import parse_query

KIND_WORDS = {
    "create": "Drop created",
    "drop": "Drop edited",
    "picture": "Picture",
    "import": "CSV import",
    "pricing": "Pricing",
    "till_override": "Till sale below the guardrail",
    "stock": "Stock added",
    "batch": "Production batch",
}
Kind = Literal["create", "drop", "picture", "import", "pricing", "till_override", "stock", "batch"]
MOST_SHOWN = 100


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One entry on the page."""

    slug: str
    when: str
    who: str
    kind: str
    summary: str
    changes: tuple[FieldChange, ...]


def rows(entries: Iterable[AuditEntry], zone: str) -> list[AuditRow]:
    return [
        AuditRow(
            e.slug,
            local_time(datetime.fromisoformat(e.at), zone),
            e.who,
            KIND_WORDS.get(e.action, e.action),
            e.summary,
            e.changes,
        )
        for e in entries
    ]


class AuditQuery(Model):
    model_config = ConfigDict(extra="ignore", frozen=True)

    drop: Slug | Literal[""] = ""
    who: str = Field(default="", max_length=200)
    kind: Kind | Literal[""] = ""
    zone: str = Field(default="UTC", max_length=64)


async def audit_page(request: Request) -> Response:
    """``GET /studio/audit?drop=&who=&kind=&zone=``: the newest changes across the studio's drops."""
    principal = principal_of(request)
    query = parse_query(request.query_params, AuditQuery)
    catalogs = [c for c in (wiring.catalog_store().drop_catalog(d.slug) for d in wiring.catalog_store().drops()) if c]
    zones = studio_zones(catalogs)
    checked_zone(query.zone, zones)
    slugs = [query.drop] if query.drop else [c.drop.slug for c in catalogs]
    audit = wiring.audit()
    logs = [audit.log(slug, MOST_SHOWN, who=query.who or None, action=query.kind or None) for slug in slugs]
    newest = list(heapq.merge(*logs, key=lambda entry: entry.at, reverse=True))[:MOST_SHOWN]
    return page(
        "audit.html",
        principal=principal,
        query=query,
        drops=[c.drop.slug for c in catalogs],
        zones=zones,
        kinds=KIND_WORDS,
        entries=rows(newest, query.zone),
        most=MOST_SHOWN,
    )
