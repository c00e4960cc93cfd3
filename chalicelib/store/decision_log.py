"""Where the shop's logged views are read back, to replay a pricing decision: CloudWatch Logs in
AWS (the shopper functions' log groups, searched for the decision's id), or the file ``make run``
writes its log to."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from chalicelib.pricing.logged import logged_entries

MAX_PAGES = 20  # FilterLogEvents pages searched per group: the id is rare, the scan is not free


def _views(lines: Iterator[str], decision_id: str) -> Iterator[Mapping[str, Any]]:
    """Each line's ``pricing`` field that holds ``decision_id`` (lines that are not JSON are skipped)."""
    for line in lines:
        if decision_id not in line:
            continue
        try:
            parsed = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        view = parsed.get("pricing") if isinstance(parsed, dict) else None
        if isinstance(view, dict) and any(d.get("decision_id") == decision_id for d in logged_entries(view)):
            yield view


class FileDecisionLog:
    """The log ``make run`` writes (one JSON line per request)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def view_of(self, decision_id: str) -> Mapping[str, Any] | None:
        if not self._path.is_file():
            return None
        with self._path.open(encoding="utf-8") as lines:
            return next(_views(iter(lines), decision_id), None)


class CloudWatchDecisionLog:
    """The shopper functions' log groups, through an injected ``logs`` client."""

    def __init__(self, client: Any, groups: tuple[str, ...]) -> None:
        self._client, self._groups = client, groups

    def view_of(self, decision_id: str) -> Mapping[str, Any] | None:
        for group in self._groups:
            pages = self._client.get_paginator("filter_log_events").paginate(
                logGroupName=group, filterPattern=f'"{decision_id}"'
            )
            for number, page in enumerate(pages):
                found = next(_views((event["message"] for event in page.get("events", ())), decision_id), None)
                if found is not None:
                    return found
                if number + 1 >= MAX_PAGES:
                    break
        return None
