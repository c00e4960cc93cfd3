"""Published marketer templates on the shopper's pages: publish, schedule, roll back, and a broken
version that never takes the page down."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from chalice.test import Client

from chalicelib import wiring
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.pages.published import (
    CONTEXT_NAMES,
    PAGES,
    PublishedTemplates,
    promote_due,
    sandbox,
    shipped_source,
)
from chalicelib.studio.templates import diff, publish, roll_back, save_draft, status
from chalicelib.tryon.tags import Tag, tag_token
from devtools.process import forget_process_state
from tests.conftest import html_of

MARKER = '<p class="marketer" data-version="{n}">{{{{ text(drop.name) }}}} by the marketing team</p>'


@pytest.fixture(autouse=True)
def no_pointer_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPFRONT_TEMPLATE_CACHE_SECONDS", "0")
    forget_process_state()


def landing_with(marker: int) -> str:
    """The shipped landing template with one marketer's line added under the title."""
    return shipped_source("landing").replace("<h1>", MARKER.format(n=marker) + "\n<h1>", 1)


def landing(client: Client) -> str:
    response = client.http.get("/drops/linen-lab?lang=en")
    assert response.status_code == 200
    return html_of(response)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_shipped_template_passes_the_sandbox_check(name: str) -> None:
    assert sandbox("en").check(shipped_source(name), CONTEXT_NAMES[name]) == ()


def test_the_context_schema_is_what_each_page_really_passes(
    client: Client, seeded_at: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, set[str]] = {}
    original = PublishedTemplates.render

    def spy(self: PublishedTemplates, locale: str, name: str, context: Any, now: datetime) -> str:
        seen[name] = set(context)
        return original(self, locale, name, context, now)

    monkeypatch.setattr(PublishedTemplates, "render", spy)
    landing(client)
    client.http.get(f"/t/{tag_token(Tag('paris-marais', 'OVR-SAND', 'M'))}")
    assert seen["landing"] == CONTEXT_NAMES["landing"]
    assert seen["tryon"] == CONTEXT_NAMES["tryon"]


def test_a_publish_shows_on_the_page_and_a_roll_back_removes_it(client: Client, seeded_at: datetime) -> None:
    store, now = wiring.templates(), seeded_at
    assert "marketer" not in landing(client)
    first = save_draft(store, "landing", landing_with(1), "maya@brand.example", "launch copy", now)["version"]
    publish(store, "landing", first, "maya@brand.example", now)
    assert 'data-version="1">Linen Lab by the marketing team' in landing(client)
    second = save_draft(store, "landing", landing_with(2), "maya@brand.example", "weekend copy", now)["version"]
    publish(store, "landing", second, "maya@brand.example", now)
    assert 'data-version="2"' in landing(client)
    assert roll_back(store, "landing", "maya@brand.example", now)["published"] == first
    assert 'data-version="1"' in landing(client)


def test_a_scheduled_publish_goes_live_at_its_time_and_can_be_rolled_back(client: Client, seeded_at: datetime) -> None:
    store = wiring.templates()
    first = save_draft(store, "landing", landing_with(1), "maya@brand.example", "", seeded_at)["version"]
    publish(store, "landing", first, "maya@brand.example", seeded_at)
    later = save_draft(store, "landing", landing_with(7), "maya@brand.example", "", seeded_at)["version"]
    publish(store, "landing", later, "maya@brand.example", seeded_at, at=seeded_at + timedelta(hours=1))
    assert 'data-version="1"' in landing(client)
    after = seeded_at + timedelta(hours=1, seconds=1)
    with time_machine.travel(after):
        assert 'data-version="7"' in landing(client)  # at its time, before any sweep
        assert promote_due(store, after) == ["landing"]
        assert (status(store, "landing", after)["published"], status(store, "landing", after)["previous"]) == (2, 1)
        roll_back(store, "landing", "maya@brand.example", after)
        assert 'data-version="1"' in landing(client)


def test_a_version_that_fails_at_render_never_takes_the_page_down(
    client: Client, seeded_at: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    store = wiring.templates()
    good = save_draft(store, "landing", landing_with(1), "maya@brand.example", "", seeded_at)["version"]
    publish(store, "landing", good, "maya@brand.example", seeded_at)
    assert 'data-version="1"' in landing(client)
    broken = landing_with(2).replace("<h1>", "{% for i in range(100000) %}{{ i }}{% endfor %}<h1>", 1)
    bad = save_draft(store, "landing", broken, "maya@brand.example", "", seeded_at)["version"]
    publish(store, "landing", bad, "maya@brand.example", seeded_at)
    capsys.readouterr()
    page = landing(client)
    assert 'data-version="1"' in page  # the last version that rendered here
    assert "TemplateFallback" in capsys.readouterr().out


def test_a_draft_with_problems_is_refused_with_line_and_column(seeded_at: datetime, demo: Any) -> None:
    with pytest.raises(Unprocessable) as refused:
        save_draft(wiring.templates(), "landing", "<p>\n{{ prodcut }}</p>", "maya@brand.example", "", seeded_at)
    assert refused.value.details == [{"line": 2, "column": 4, "problem": "unknown variable 'prodcut'"}]
    assert status(wiring.templates(), "landing", seeded_at)["versions"] == []


def test_versions_diff_and_publishing_rules(seeded_at: datetime, demo: Any) -> None:
    store = wiring.templates()
    first = save_draft(store, "landing", landing_with(1), "maya@brand.example", "", seeded_at)["version"]
    second = save_draft(store, "landing", landing_with(2), "sam@brand.example", "", seeded_at)["version"]
    change = diff(store, "landing", first, second)
    assert '-<p class="marketer" data-version="1">' in change and '+<p class="marketer" data-version="2">' in change
    assert '+<p class="marketer" data-version="1">' in diff(store, "landing", 0, first)
    with pytest.raises(NotFound):
        publish(store, "landing", 99, "maya@brand.example", seeded_at)
    with pytest.raises(Conflict):
        roll_back(store, "landing", "maya@brand.example", seeded_at)
    with pytest.raises(NotFound):
        save_draft(store, "../etc/passwd", "x", "maya@brand.example", "", seeded_at)
    listed = status(store, "landing", seeded_at)["versions"]
    assert [(v["version"], v["author"]) for v in listed] == [(1, "maya@brand.example"), (2, "sam@brand.example")]
    assert json.dumps(listed)  # plain data


def test_a_version_that_breaks_its_budget_is_skipped_by_later_views(
    client: Client, seeded_at: datetime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The breaker: the first view pays the budget once and opens it; the next views serve the last
    good version at once, without trying the broken one, until it closes."""
    store = wiring.templates()
    slow = landing_with(3).replace("<h1>", "{% for a in view.products * 4000 %}{% endfor %}<h1>", 1)
    bad = save_draft(store, "landing", slow, "maya@brand.example", "", seeded_at)["version"]
    publish(store, "landing", bad, "maya@brand.example", seeded_at)
    tried: list[int] = []
    original = PublishedTemplates._render_version

    def counting(self: PublishedTemplates, locale: str, name: str, version: int, context: Any) -> str:
        tried.append(version)
        return original(self, locale, name, version, context)

    monkeypatch.setattr(PublishedTemplates, "_render_version", counting)
    capsys.readouterr()
    pages = [landing(client) for _ in range(3)]
    assert all('data-version="3"' not in page and "<h1>" in page for page in pages)
    assert tried.count(bad) == 1
    assert "TemplateBreakerOpen" in capsys.readouterr().out


def test_publishing_trial_renders_the_version_and_refuses_one_over_budget(client: Client, seeded_at: datetime) -> None:
    from chalicelib.studio.preview import trial_render

    store = wiring.templates()
    fine = save_draft(store, "landing", landing_with(4), "maya@brand.example", "", seeded_at)["version"]
    slow = landing_with(5).replace("<h1>", "{% for a in view.products * 4000 %}{% endfor %}<h1>", 1)
    bad = save_draft(store, "landing", slow, "maya@brand.example", "", seeded_at)["version"]
    with pytest.raises(Unprocessable) as refused:
        publish(store, "landing", bad, "maya@brand.example", seeded_at, trial=trial_render)
    assert refused.value.code == "template_over_budget"
    failures = refused.value.details or []
    assert [f["problem"] for f in failures] == ["more than 20000 loop iterations"]  # one line per problem
    where = failures[0]["field"].split(", ")
    assert {"linen-lab (en)", "linen-lab (fr)", "linen-lab (ar)"} <= set(where)  # every drop and language it met
    assert status(store, "landing", seeded_at)["published"] is None
    publish(store, "landing", fine, "maya@brand.example", seeded_at, trial=trial_render)
    assert 'data-version="4"' in landing(client)
