"""The edge function (JavaScript, run under node as CloudFront would) and the app (Python) agree: the
same segment key for the same visitor, drop and position; the same verdict on a cookie; the same
language as Accept-Language would have chosen. Hypothesis draws the inputs."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.core import records
from chalicelib.core.models import Location
from chalicelib.edge.documents import drop_document, key_entries
from chalicelib.edge.segment import (
    MINTED_HEADER,
    SEGMENT_HEADER,
    Grant,
    Profile,
    SegmentKey,
    edge_keys,
    minted_id,
    parse_segment,
    seal,
    seal_grant,
    unseal,
    unseal_grant,
)
from chalicelib.i18n.locales import UI_LOCALES, negotiate
from chalicelib.pricing.experiments import assign
from chalicelib.pricing.policy import Cell, Experiment
from chalicelib.pricing.segments import Whereabouts, nearest_popup
from chalicelib.web.request import edge
from devtools.local_edge import EdgeFunction
from infra.edge_rules import EDGE_FUNCTION, VIEWER_IP_HEADER

KEYS = edge_keys(("first-signing-key", "second-signing-key"))
SLUG = "twin-drop"
labels = st.from_regex(r"[a-z0-9][a-z0-9-]{0,11}", fullmatch=True)
visitor_ids = st.from_regex(r"[A-Za-z0-9_-]{8,24}", fullmatch=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edge") / "store.json"


@pytest.fixture(scope="module")
def function(store: Path) -> Iterator[EdgeFunction]:
    running = EdgeFunction(store)
    yield running
    running.close()


def write_store(store: Path, entries: dict[str, str]) -> None:
    temporary = store.with_suffix(".tmp")
    temporary.write_text(json.dumps(entries))
    temporary.replace(store)


def viewer_request(
    uri: str, headers: dict[str, str], cookies: dict[str, str], request_id: str = "req"
) -> dict[str, Any]:
    return {
        "context": {"eventType": "viewer-request", "requestId": request_id},
        "viewer": {"ip": "203.0.113.9"},
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": {},
            "headers": {name: {"value": value} for name, value in headers.items()},
            "cookies": {name: {"value": value} for name, value in cookies.items()},
        },
    }


@st.composite
def experiments(draw: st.DrawFn) -> list[Experiment]:
    ids = draw(st.lists(labels, min_size=0, max_size=4, unique=True))
    groups = [draw(st.one_of(st.none(), st.sampled_from(["launch", "copy"]))) for _ in ids]
    found = []
    for experiment_id, group in zip(ids, groups, strict=True):
        names = draw(st.lists(labels, min_size=1, max_size=4, unique=True))
        weights = draw(st.lists(st.integers(0, 10_000), min_size=len(names), max_size=len(names)))
        if sum(weights) == 0:
            weights[0] = 1
        cells = tuple(Cell(name=n, weight=w) for n, w in zip(names, weights, strict=True))
        seed = draw(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20))
        found.append(Experiment(id=experiment_id, seed=seed, group=group, cells=cells))
    return found


def popup(identifier: str, latitude: float | None, longitude: float | None, city: str | None) -> Location:
    return records.validate(
        Location,
        {"id": identifier, "kind": "popup", "name": {"en": identifier}, "timezone": "Europe/Paris"}
        | {"latitude": latitude, "longitude": longitude, "city": city},
    )


POPUPS = (
    popup("paris-marais", 48.8625, 2.362, "Paris"),
    popup("paris-nord", 48.8809, 2.3553, "Paris"),
    popup("brooklyn", 40.7181, -73.9612, "Brooklyn"),
    popup("somewhere", None, None, "Lyon"),
)
PRICEABLE = (
    "visit:new",
    "visit:returning",
    "tier:gold",
    "tier:silver",
    "cohort:ana",
    "near:paris-marais",
    "near:paris-nord",
    "near:brooklyn",
)
positions = st.one_of(
    st.none(),
    st.tuples(st.floats(48.80, 48.92), st.floats(2.25, 2.45)),  # around the Paris pop-ups
    st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    experiments(),
    st.builds(
        Profile,
        visitor_ids,
        st.none() | st.sampled_from(["gold", "silver", "bronze"]),
        st.none() | st.sampled_from(["ana", "ben"]),
        st.none() | st.sampled_from(["paris-marais", "brooklyn", "lyon"]),
    ),
    st.booleans(),
    positions,
    st.sampled_from([None, "Paris", "paris", "Brooklyn", "Lyon", "Berlin"]),
    st.one_of(st.none(), st.integers(1, 99)),
    st.lists(st.sampled_from(PRICEABLE), unique=True),
)
def test_the_edge_draws_the_key_the_app_would(
    function: EdgeFunction,
    store: Path,
    drawn: list[Experiment],
    profile: Profile,
    returning: bool,
    position: tuple[float, float] | None,
    city: str | None,
    version: int | None,
    priced: list[str],
) -> None:
    """Of the visitor, the key holds what the drop's rules price by, and every experiment cell."""
    write_store(store, key_entries(KEYS) | {f"d.{SLUG}": drop_document(version, drawn, priced, POPUPS)})
    headers = {"cloudfront-viewer-city": city} if city else {}
    if position:
        headers |= {"cloudfront-viewer-latitude": repr(position[0]), "cloudfront-viewer-longitude": repr(position[1])}
    headers |= {SEGMENT_HEADER: "r~t:gold", MINTED_HEADER: "forged"}  # what a client sends is dropped
    cookies = {"dfs": seal(profile, KEYS[0])} if returning else {}  # an older key still verifies
    result = function.run(viewer_request(f"/drops/{SLUG}", headers, cookies, "request-7"))

    visitor_id = profile.visitor_id if returning else minted_id("request-7")
    known = profile if returning else Profile(visitor_id)
    viewer = edge(headers)  # as the origin reads CloudFront's headers
    where = Whereabouts(viewer.latitude, viewer.longitude, viewer.city)
    near = nearest_popup(where, POPUPS)

    def kept(prefix: str, label: str | None) -> str | None:
        return label if label is not None and f"{prefix}:{label}" in priced else None

    expected = SegmentKey(
        returning if {"visit:new", "visit:returning"} & set(priced) else None,
        kept("tier", known.tier),
        kept("cohort", known.cohort),
        kept("near", known.popup),
        kept("near", near),
        tuple(f"{a.experiment}.{a.cell.name}" for a in assign(visitor_id, drawn)),
        version,
    )
    sent = {name: entry["value"] for name, entry in result["headers"].items()}
    assert parse_segment(sent[SEGMENT_HEADER]) == expected and sent[SEGMENT_HEADER] == expected.text
    assert sent[VIEWER_IP_HEADER] == "203.0.113.9"
    if returning:
        assert MINTED_HEADER not in sent
    else:
        assert unseal(sent[MINTED_HEADER], KEYS) == Profile(visitor_id)  # sealed with the newest key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.builds(Profile, visitor_ids, st.none() | labels, st.none() | labels, st.none() | labels), st.data())
def test_a_cookie_altered_anywhere_is_not_verified(
    function: EdgeFunction, store: Path, profile: Profile, data: st.DataObject
) -> None:
    """Any change to a sealed cookie (its profile, key id or signature) makes the visitor a new one."""
    write_store(store, key_entries(KEYS) | {f"d.{SLUG}": drop_document(None, (), ("visit:new",), ())})
    sealed = seal(profile, KEYS[-1])
    position = data.draw(st.integers(0, len(sealed) - 1))
    replacement = data.draw(st.sampled_from("abcdefABCDEF0123456789~:._-").filter(lambda c: c != sealed[position]))
    altered = sealed[:position] + replacement + sealed[position + 1 :]
    result = function.run(viewer_request(f"/drops/{SLUG}", {}, {"dfs": altered}, "request-9"))
    segment = result["headers"].get(SEGMENT_HEADER, {}).get("value")
    assert unseal(altered, KEYS) is None
    assert segment is None or segment == "n"  # a new visitor, or (a key id it has not got) the origin's to decide


def test_a_visitor_gets_the_cookie_the_request_minted_and_keeps_the_one_they_have(
    function: EdgeFunction, store: Path
) -> None:
    write_store(store, key_entries(KEYS))
    response: dict[str, Any] = {"statusCode": 200, "headers": {}, "cookies": {}}
    minted = function.run(
        {**viewer_request("/drops/x", {}, {}, "request-1"), "response": response}
        | {"context": {"eventType": "viewer-response", "requestId": "request-1"}}
    )
    assert unseal(minted["cookies"]["dfs"]["value"], KEYS) == Profile(minted_id("request-1"))
    assert "Secure" in minted["cookies"]["dfs"]["attributes"] and "HttpOnly" in minted["cookies"]["dfs"]["attributes"]
    known = {"dfs": seal(Profile("visitor-0001"), KEYS[0])}
    kept = function.run(
        {**viewer_request("/drops/x", {}, known, "request-2"), "response": response}
        | {"context": {"eventType": "viewer-response", "requestId": "request-2"}}
    )
    assert kept["cookies"] == {}


accept_language = st.lists(
    st.tuples(
        st.sampled_from(
            ["en", "en-GB", "fr", "fr-CA", "de-CH", "es", "ja", "ar-EG", "sw", "pt-BR", "x", "zz-zz-zz-zz-zz"]
        ),
        st.one_of(st.none(), st.sampled_from(["0", "0.1", "0.5", "0.9", "1", "1.5", "abc", ""])),
    ),
    max_size=8,
).map(lambda entries: ", ".join(tag + (f";q={q}" if q is not None else "") for tag, q in entries))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(accept_language, st.lists(st.sampled_from(UI_LOCALES), min_size=1, unique=True))
def test_cutting_accept_language_down_never_changes_the_language_chosen(
    function: EdgeFunction, store: Path, header: str, available: list[str]
) -> None:
    write_store(store, {})
    result = function.run(viewer_request("/drops/x", {"accept-language": header}, {}))
    cut = result["headers"].get("accept-language", {}).get("value")
    assert cut is None or set(cut.split(",")) <= set(UI_LOCALES)
    assert negotiate(None, cut, tuple(available), "zz") == negotiate(None, header, tuple(available), "zz")


def test_the_function_knows_the_apps_locales() -> None:
    found = re.search(r"var UI_LOCALES = \[([^\]]*)\];", EDGE_FUNCTION.read_text())
    assert found is not None
    assert tuple(name.strip().strip("'") for name in found.group(1).split(",")) == UI_LOCALES


def test_a_visitor_the_app_knows_but_the_edge_does_not_yet_is_left_to_the_origin(
    function: EdgeFunction, store: Path
) -> None:
    """A cookie from before the segment cookie existed, or one signed with a key not in the store
    yet: no key and no new id (the origin renders for them and sets the cookie), never a new visitor."""
    write_store(store, key_entries(KEYS[:1]) | {f"d.{SLUG}": drop_document(None, (), ("visit:new",), ())})
    response: dict[str, Any] = {"statusCode": 200, "headers": {}, "cookies": {}}
    for cookies in ({"dfv": "an-app-cookie"}, {"dfs": seal(Profile("visitor-0002"), KEYS[1])}):
        sent = function.run(viewer_request(f"/drops/{SLUG}", {}, cookies, "request-3"))["headers"]
        assert SEGMENT_HEADER not in sent and MINTED_HEADER not in sent
        event = {**viewer_request(f"/drops/{SLUG}", {}, cookies, "request-3"), "response": response}
        answered = function.run(event | {"context": {"eventType": "viewer-response", "requestId": "request-3"}})
        assert answered["cookies"] == {}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.builds(Profile, visitor_ids, st.none() | st.sampled_from(["gold", "silver"]), st.none() | st.just("ana")),
    st.booleans(),
    st.builds(
        Grant, st.none() | st.sampled_from(["gold", "vip"]), st.none() | st.sampled_from(["ana", "ben"]), st.just(0)
    ).filter(lambda grant: bool(grant.tier or grant.cohort)),
    st.integers(-5, 5),
)
def test_the_edge_reads_a_campaign_grant_as_the_app_does(
    function: EdgeFunction, store: Path, profile: Profile, returning: bool, drawn: Grant, days_left: int
) -> None:
    """The grant joins the key at once and the visitor's cookie on the way out, until it expires."""
    write_store(store, key_entries(KEYS) | {f"d.{SLUG}": drop_document(None, (), PRICEABLE, POPUPS)})
    now = int(time.time())
    # Later today when 0: a minute on, since the function reads node's clock when it runs, and a
    # grant one second on had expired by then on a slow machine (the next test holds the boundary).
    grant = replace(drawn, expires=now + days_left * 86_400 + (60 if days_left == 0 else 0))
    link = seal_grant(grant, KEYS[0])
    cookies = {"dfs": seal(profile, KEYS[1])} if returning else {}
    event = viewer_request(f"/drops/{SLUG}", {}, cookies, "request-5")
    event["request"]["querystring"] = {"c": {"value": link}}
    sent = function.run(event)["headers"]
    answered = function.run(
        event
        | {"context": {"eventType": "viewer-response", "requestId": "request-5"}}
        | {"response": {"statusCode": 200, "headers": {}, "cookies": {}}}
    )
    known = profile if returning else Profile(minted_id("request-5"))
    verified = unseal_grant(link, KEYS, now)
    assert (verified is None) == (grant.expires <= now)
    if verified is None:  # expired: the page is the origin's, and nothing is granted
        assert SEGMENT_HEADER not in sent
        assert not returning or answered["cookies"] == {}
        return
    after = replace(known, tier=grant.tier or known.tier, cohort=grant.cohort or known.cohort)
    key = parse_segment(sent[SEGMENT_HEADER]["value"])
    priced_tier = after.tier if f"tier:{after.tier}" in PRICEABLE else None
    priced_cohort = after.cohort if f"cohort:{after.cohort}" in PRICEABLE else None
    assert key is not None and (key.tier, key.cohort) == (priced_tier, priced_cohort)
    expected = seal(after, KEYS[-1])
    assert answered["cookies"].get("dfs", {}).get("value", cookies.get("dfs")) == expected


def test_a_grant_is_refused_from_the_second_it_expires() -> None:
    """The app's side of the boundary (``expires <= now``: refused) on a clock held still; the edge's
    function makes the same comparison on node's clock, which the test above cannot hold still."""
    now = 1_800_000_000
    link = seal_grant(Grant("gold", None, now + 1), KEYS[0])
    assert unseal_grant(link, KEYS, now) == Grant("gold", None, now + 1)
    assert unseal_grant(link, KEYS, now + 1) is None
