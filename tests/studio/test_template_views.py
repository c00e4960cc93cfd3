"""The studio's template pages through Starlette's TestClient: login, sessions, CSRF, roles, and the
edit → preview → publish → roll back cycle."""

from __future__ import annotations

from markupsafe import escape
from starlette.testclient import TestClient

from chalicelib import wiring
from chalicelib.pages.published import shipped_source
from chalicelib.studio.auth import Principal, Role
from tests.studio.conftest import HTML, TOKEN, cookie_for, csrf_of, log_in

MARK = '<p class="marketer">Made for the weekend</p>'


def with_mark() -> str:
    return shipped_source("landing").replace("<h1>", MARK + "\n<h1>", 1)


def test_a_browser_that_is_not_logged_in_goes_to_the_login_page(studio: TestClient) -> None:
    response = studio.get("/studio/", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/studio/login"
    assert studio.get("/studio/login").status_code == 200


def test_a_wrong_token_is_refused_at_login(studio: TestClient) -> None:
    response = studio.post("/studio/login", data={"token": "guess"})
    assert response.status_code == 401 and "That token is not valid." in response.text
    assert "set-cookie" not in response.headers


def test_edit_preview_publish_and_roll_back(studio: TestClient) -> None:
    session = log_in(studio)
    home = studio.get("/studio/", headers=session)
    assert home.status_code == 200 and 'data-template="landing"' in home.text
    editor = studio.get("/studio/templates/landing", headers=session)
    assert editor.status_code == 200 and "frame-src 'self'" in editor.headers["content-security-policy"]
    csrf = csrf_of(editor.text)
    saved = studio.post(
        "/studio/templates/landing",
        headers=session,
        data={"csrf": csrf, "action": "save", "source": with_mark(), "note": "weekend"},
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/studio/templates/landing?v=1&done=draft-saved"
    told = studio.get(saved.headers["location"], headers=session).text
    assert "Draft saved. Preview it, then publish it when it is ready." in told
    made_up = studio.get("/studio/templates/landing?v=1&done=%3Cb%3Ehacked", headers=session).text
    assert "flash" not in made_up and "hacked" not in made_up  # only the studio's own words
    preview = studio.get("/studio/templates/landing/preview?v=1&lang=fr", headers=session)
    assert preview.status_code == 200 and MARK in preview.text and '<html lang="fr"' in preview.text
    csp = preview.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "script-src 'none'" in csp and "; sandbox" in csp  # a draft runs nothing
    assert '<iframe id="preview" title="Phone preview" src="' in editor.text and 'sandbox=""' in editor.text
    published = studio.post(
        "/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "publish", "version": "1"}
    )
    assert published.status_code == 303
    assert "data-live>1<" in studio.get("/studio/templates/landing", headers=session).text
    second = studio.post(
        "/studio/templates/landing",
        headers=session,
        data={"csrf": csrf, "action": "save", "source": with_mark().replace("weekend", "week"), "note": ""},
    )
    studio.post("/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "publish", "version": "2"})
    assert second.status_code == 303
    diff = studio.get("/studio/templates/landing/diff?old=1&new=2", headers=session)
    assert "-" + MARK in diff.text and "+" + MARK.replace("weekend", "week") in diff.text
    studio.post("/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "rollback"})
    assert "data-live>1<" in studio.get("/studio/templates/landing", headers=session).text


def test_a_one_line_edit_sent_with_crlf_diffs_as_one_line_side_by_side(studio: TestClient) -> None:
    """A browser's textarea sends CRLF; the version is stored with LF, so only the edited line differs."""
    session = log_in(studio)
    csrf = csrf_of(studio.get("/studio/templates/landing", headers=session).text)
    edited = with_mark().replace("\n", "\r\n")
    saved = studio.post(
        "/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "save", "source": edited}
    )
    assert saved.status_code == 303
    stored = wiring.templates().version("landing", 1)
    assert stored is not None and "\r" not in stored["source"] and stored["source"] == with_mark()
    page = studio.get("/studio/templates/landing/diff?old=0&new=1", headers=session | HTML)
    assert page.status_code == 200 and "1 line changed." in page.text
    assert page.text.count('<tr class="added">') == 1 and '<tr class="removed">' not in page.text
    assert '<tr class="changed">' not in page.text and f"<ins>{escape(MARK)}</ins>" in page.text
    assert "unchanged lines</td>" in page.text  # the rest is folded
    plain = studio.get("/studio/templates/landing/diff?old=0&new=1", headers=session).text
    assert [line for line in plain.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")] == ["+" + MARK]
    same = studio.get("/studio/templates/landing/diff?old=1&new=1", headers=session | HTML).text
    assert "No differences: the two versions are the same." in same


def test_a_draft_with_problems_shows_them_by_line_and_saves_nothing(studio: TestClient) -> None:
    session = log_in(studio)
    csrf = csrf_of(studio.get("/studio/templates/landing", headers=session).text)
    response = studio.post(
        "/studio/templates/landing",
        headers=session,
        data={"csrf": csrf, "action": "save", "source": "<p>\n{{ ''.__class__ }}</p>"},
    )
    assert response.status_code == 422
    where = '<a href="#source" data-goto-line="2">line 2, column 7</a>'
    assert f"{where}: &#39;__class__&#39; is not allowed" in response.text
    assert '"column": 7, "line": 2' in response.text  # for the editor to mark
    assert wiring.templates().versions("landing") == []


def test_forms_need_the_sessions_csrf_token(studio: TestClient) -> None:
    session = log_in(studio)
    for csrf in ("", "forged", csrf_of(studio.get("/studio/templates/landing", headers=log_in(studio)).text)):
        response = studio.post(
            "/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "save", "source": "<p>x</p>"}
        )
        assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"


def test_an_editor_saves_but_only_a_publisher_publishes(studio: TestClient) -> None:
    editor = cookie_for(Principal("ed@brand.example", frozenset({Role.EDITOR}), "session-ed"))
    csrf = csrf_of(studio.get("/studio/templates/landing", headers=editor).text)
    saved = studio.post(
        "/studio/templates/landing", headers=editor, data={"csrf": csrf, "action": "save", "source": "<p>x</p>"}
    )
    assert saved.status_code == 303
    refused = studio.post(
        "/studio/templates/landing", headers=editor, data={"csrf": csrf, "action": "publish", "version": "1"}
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "missing_role"
    staff = cookie_for(Principal("till@brand.example", frozenset({Role.STAFF}), "session-st"))
    staff_csrf = csrf_of(studio.get("/studio/templates/landing", headers=staff).text)
    assert (
        studio.post("/studio/templates/landing", headers=staff, data={"csrf": staff_csrf, "action": "save"}).status_code
        == 403
    )


def test_bearer_clients_need_no_csrf_and_bad_input_is_4xx(studio: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    saved = studio.post("/studio/templates/landing", headers=bearer, data={"action": "save", "source": "<p>ok</p>"})
    assert saved.status_code == 303
    for data, status in (
        ({"action": "delete"}, 422),
        ({"action": "publish"}, 422),
        ({"action": "publish", "version": "99"}, 404),
        ({"action": "publish", "version": "x"}, 422),
        ({"action": "rollback"}, 409),
    ):
        assert studio.post("/studio/templates/landing", headers=bearer, data=data).status_code == status, data
    assert studio.get("/studio/templates/nope", headers=bearer).status_code == 404
    assert studio.get("/studio/templates/landing/diff?old=1&new=x", headers=bearer).status_code == 400
    assert studio.get("/studio/templates/landing/preview?v=42", headers=bearer).status_code == 422


def test_rolling_back_the_first_publish_restores_the_shipped_template(studio: TestClient) -> None:
    session = log_in(studio)
    csrf = csrf_of(studio.get("/studio/templates/landing", headers=session).text)
    studio.post(
        "/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "save", "source": with_mark()}
    )
    rollback = {"csrf": csrf, "action": "rollback"}
    early = studio.post("/studio/templates/landing", headers=session, data=rollback)
    assert early.status_code == 409 and early.json()["error"]["code"] == "nothing_to_roll_back"
    published = studio.post(
        "/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "publish", "version": "1"}
    )
    assert published.status_code == 303, published.text
    assert wiring.templates().pointer("landing")["previous"] == 0  # type: ignore[index]  # the shipped one
    rolled = studio.post("/studio/templates/landing", headers=session, data=rollback)
    assert rolled.status_code == 303
    assert "data-live>shipped<" in studio.get("/studio/templates/landing", headers=session).text
    pointer = wiring.templates().pointer("landing")
    assert pointer is not None and pointer["published"] == 0 and pointer["previous"] == 1


def test_after_a_deploy_the_shipped_templates_are_published_once(demo: object) -> None:
    """The post-deploy step (devtools/post_deploy.py): every shipped template passes the sandbox's
    checks and becomes version 1, published; a second run changes nothing."""
    from chalicelib.studio.templates import publish_shipped_if_empty

    store, now = wiring.templates(), wiring.utcnow()
    assert publish_shipped_if_empty(store, "deploy:test", now) == ["landing", "tryon", "pickup"]
    for name in ("landing", "tryon", "pickup"):
        assert store.pointer(name)["published"] == 1  # type: ignore[index]
        assert store.version(name, 1)["source"] == shipped_source(name)  # type: ignore[index]
    assert publish_shipped_if_empty(store, "deploy:test", now) == []
    assert [v["version"] for v in store.versions("landing")] == [1]


def save_over_budget(studio: TestClient, session: dict[str, str]) -> str:
    """Save version 1 of the landing page with a loop past the render budget; the form's CSRF token."""
    csrf = csrf_of(studio.get("/studio/templates/landing", headers=session).text)
    slow = with_mark().replace("<h1>", "{% for a in view.products * 4000 %}{% endfor %}<h1>", 1)
    studio.post(
        "/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "save", "source": slow, "note": ""}
    )
    return csrf


def test_a_version_over_the_page_budget_is_not_published_and_says_where(studio: TestClient) -> None:
    session = log_in(studio)
    csrf = save_over_budget(studio, session)
    refused = studio.post(
        "/studio/templates/landing",
        headers={**session, **HTML},
        data={"csrf": csrf, "action": "publish", "version": "1"},
    )
    assert refused.status_code == 422
    assert "does not render within the page budget" in refused.text and "loop iterations" in refused.text
    assert "Your draft is saved; it was not published." in refused.text and "linen-lab (fr)" in refused.text
    assert "Nothing was saved" not in refused.text and "SecurityError" not in refused.text
    assert (wiring.templates().pointer("landing") or {}).get("published") is None


def test_a_version_that_does_not_render_says_why_inside_the_editors_preview(studio: TestClient) -> None:
    session = log_in(studio)
    save_over_budget(studio, session)
    framed = studio.get("/studio/templates/landing/preview?v=1&lang=fr", headers={**session, **HTML})
    assert framed.status_code == 422 and "more than 20000 loop iterations" in framed.text
    assert "SecurityError" not in framed.text
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]  # the editor's frame may show it
    api = studio.get("/studio/templates/landing/preview?v=1&lang=fr", headers=session)
    assert api.status_code == 422 and api.json()["error"]["code"] == "render_failed"
    assert (
        "frame-ancestors 'none'"
        in studio.get("/studio/", headers={**session, **HTML}).headers["Content-Security-Policy"]
    )


def test_a_publish_is_scheduled_in_the_zone_the_page_names(studio: TestClient) -> None:
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    session = log_in(studio)
    paris = ZoneInfo("Europe/Paris")
    editor = studio.get("/studio/templates/landing?zone=Europe/Paris", headers=session).text
    assert "<option selected>Europe/Paris</option>" in editor and "Saved (Europe/Paris)" in editor
    csrf = csrf_of(editor)
    studio.post(
        "/studio/templates/landing", headers=session, data={"csrf": csrf, "action": "save", "source": with_mark()}
    )
    day = (wiring.utcnow().astimezone(paris) + timedelta(days=2)).date()
    form = {"csrf": csrf, "action": "publish", "version": "1", "at": f"{day}T10:00", "zone": "Europe/Paris"}
    scheduled = studio.post("/studio/templates/landing", headers=session, data=form)
    assert scheduled.status_code == 303 and scheduled.headers["location"].endswith("zone=Europe/Paris&done=scheduled")
    expected = datetime.combine(day, time(10), paris)
    pointer = wiring.templates().pointer("landing")
    assert pointer is not None and datetime.fromisoformat(pointer["scheduled"]["at"]) == expected
    shown = studio.get(scheduled.headers["location"], headers=session).text
    assert f"<span data-scheduled>{day} 10:00 (Europe/Paris)</span>" in shown
    utc = expected.astimezone(ZoneInfo("UTC"))
    in_utc = studio.get("/studio/templates/landing?zone=UTC", headers=session).text
    assert f"<span data-scheduled>{utc:%Y-%m-%d %H:%M} (UTC)</span>" in in_utc
    assert studio.get("/studio/templates/landing?zone=Mars/Olympus", headers=session).status_code == 400
    bad_time = studio.post("/studio/templates/landing", headers=session, data=form | {"at": "tomorrow"})
    assert bad_time.status_code == 422 and bad_time.json()["error"]["details"] == [
        {"field": "at", "problem": "is not a date and time"}
    ]


def test_the_editor_loads_its_bundled_script_under_the_pages_nonce(studio: TestClient) -> None:
    from chalicelib.studio.web import static_file

    session = log_in(studio)
    editor = studio.get("/studio/templates/landing", headers=session)
    _, version = static_file("editor.js")
    nonce = editor.headers["content-security-policy"].split("script-src 'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script nonce="{nonce}" src="/studio/static/editor.js?v={version}" defer></script>' in editor.text
    assert "data-problems='[]'" in editor.text and "<code>view</code>" in editor.text
    assert "\x00" not in editor.text  # the meter's own filters are not offered
    script = studio.get(f"/studio/static/editor.js?v={version}")  # no login: nothing in it is secret
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "x-content-type-options" in script.headers
    assert studio.get("/studio/static/editor.js").headers["cache-control"] == "no-cache"  # an old or bare URL
    assert studio.get("/studio/static/app.py").status_code == 404
    assert studio.get("/studio/static/..%2Fapp.py").status_code == 404
