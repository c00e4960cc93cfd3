"""First views of a drop's page, counted from CloudFront's access log. A page kept for a segment
knows no visitor, so under the edge the experiments' samples (each new visitor once in each cell
they fall into) are counted from the log: a landing-page request that came without a visitor cookie
was a new visitor's first view, and their id is the one the edge derived from its request id, so
their cells are drawn again here exactly as the edge drew them.

The log is CloudFront's standard format (tab-separated, fields named by its ``#Fields:`` line, the
cookie header logged: the distribution's ``log_includes_cookies``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from chalicelib.core.cookies import cookie_value
from chalicelib.edge.segment import COOKIE_NAME, minted_id
from chalicelib.pricing.counters import exposure_counts
from chalicelib.pricing.experiments import assign
from chalicelib.pricing.policy import Experiment

LANDING = re.compile(r"^/drops/([a-z0-9][a-z0-9-]{0,62})$")
APP_COOKIE = "dfv"


@dataclass(frozen=True, slots=True)
class FirstView:
    slug: str
    visitor_id: str


def first_views(lines: Iterable[str]) -> list[FirstView]:
    """The log's first views of landing pages: GETs answered 200 that carried neither cookie."""
    fields: list[str] = []
    found = []
    for line in lines:
        if line.startswith("#Fields:"):
            fields = line.removeprefix("#Fields:").split()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        record = dict(zip(fields, line.rstrip("\r\n").split("\t"), strict=False))
        page = LANDING.match(record.get("cs-uri-stem", ""))
        if page is None or record.get("cs-method") != "GET" or record.get("sc-status") != "200":
            continue
        cookie = unquote(record.get("cs(Cookie)", "-"))
        if cookie_value(cookie, COOKIE_NAME) or cookie_value(cookie, APP_COOKIE):
            continue
        request_id = record.get("x-edge-request-id", "")
        if request_id:
            found.append(FirstView(page.group(1), minted_id(request_id)))
    return found


def exposures(
    views: Iterable[FirstView], experiments_of: Callable[[str], tuple[Experiment, ...]]
) -> dict[str, dict[str, int]]:
    """Per drop, what its first views add to its cells' samples (``experiments_of``: a drop's
    experiments, as its policy has them now)."""
    by_drop: dict[str, Counter[str]] = {}
    for view in views:
        experiments = experiments_of(view.slug)
        if experiments:
            totals = by_drop.setdefault(view.slug, Counter())
            totals.update(exposure_counts(a.label for a in assign(view.visitor_id, experiments)))
    return {slug: dict(totals) for slug, totals in by_drop.items()}
