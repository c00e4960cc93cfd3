"""Under the edge, a new visitor's first view joins the experiments' samples from CloudFront's access
log: the request id gives the id the edge minted, and so the cells it drew."""

from __future__ import annotations

import gzip
from collections import Counter

import boto3
from chalice.test import Client

from chalicelib import wiring
from chalicelib.edge.segment import minted_id
from chalicelib.numbers.first_views import FirstView, first_views
from chalicelib.pricing.experiments import assign
from devtools.local_edge import Edge

SLUG = "linen-lab"
# CloudFront's standard log, as documented: every field, tab-separated, the cookie URL-encoded.
FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
    "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
    "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
    "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte "
    "x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end"
)


def logged(method: str, path: str, status: int, cookie: str, request_id: str) -> str:
    values = dict.fromkeys(FIELDS.split(), "-") | {
        "date": "2026-12-05",
        "time": "19:00:00",
        "cs-method": method,
        "cs-uri-stem": path,
        "sc-status": str(status),
        "cs(Cookie)": cookie,
        "x-edge-request-id": request_id,
        "x-edge-result-type": "Hit",
    }
    return "\t".join(values[name] for name in FIELDS.split())


LOG = [
    "#Version: 1.0",
    f"#Fields: {FIELDS}",
    logged("GET", f"/drops/{SLUG}", 200, "-", "first=="),  # a new visitor: counted
    logged("GET", f"/drops/{SLUG}", 200, "theme%3Ddark", "second=="),  # another cookie only: counted
    logged("GET", f"/drops/{SLUG}", 200, "dfs%3Dv%3Aabc.k.s", "returning=="),
    logged("GET", f"/drops/{SLUG}", 200, "a%3D1%3B%20dfv%3Dtoken", "known-to-the-app=="),
    logged("POST", f"/drops/{SLUG}/reserve", 303, "-", "a-form=="),
    logged("GET", f"/drops/{SLUG}", 304, "-", "not-modified=="),
    logged("GET", "/t/some-tag", 200, "-", "a-try-on=="),
    logged("GET", f"/drops/{SLUG}/holds/h1", 200, "-", "a-hold=="),
]


def test_the_log_names_the_first_views_of_landing_pages() -> None:
    assert first_views(LOG) == [FirstView(SLUG, minted_id("first==")), FirstView(SLUG, minted_id("second=="))]


def test_log_files_landing_in_the_bucket_add_their_first_views_to_the_cells(client: Client) -> None:
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="access-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    key = "cloudfront/E2EXAMPLE.2026-12-05-19.abcd1234.gz"
    s3.put_object(Bucket="access-logs", Key=key, Body=gzip.compress("\n".join(LOG).encode()))
    before = wiring.numbers().counts(SLUG)
    event = {"Records": [{"s3": {"bucket": {"name": "access-logs"}, "object": {"key": key}}}]}
    client.lambda_.invoke("edge_logs", event)
    added = Counter(wiring.numbers().counts(SLUG))
    added.subtract(before)
    policy = wiring.catalog().policy(SLUG).policy
    assert policy is not None
    expected = Counter(
        f"seen@{a.label}" for rid in ("first==", "second==") for a in assign(minted_id(rid), policy.experiments)
    )
    assert {k: v for k, v in added.items() if v} == dict(expected)


def test_first_views_through_the_local_edge_are_counted_once_each(client: Client, edge: Edge) -> None:
    """The origin counts none of them itself (the page may be one kept for a segment); the log counts
    each new visitor once, in the cells the edge drew for them, and their later views not at all."""
    policy = wiring.catalog().policy(SLUG).policy
    assert policy is not None
    before = Counter(wiring.numbers().counts(SLUG))
    drawn: Counter[str] = Counter()
    for number in range(12):
        headers = {"cloudfront-viewer-country": "FR" if number % 2 else "US"}
        _, answered, _ = edge.answer("GET", f"/drops/{SLUG}", headers, b"", "198.51.100.7")
        cookie = next(v.partition(";")[0] for k, v in answered if k.lower() == "set-cookie")
        visitor = cookie.removeprefix("dfs=").partition(".")[0].removeprefix("v:")
        drawn.update(f"seen@{a.label}" for a in assign(visitor, policy.experiments))
        edge.answer("GET", f"/drops/{SLUG}", {**headers, "cookie": cookie}, b"", "198.51.100.7")  # returning
    assert Counter(wiring.numbers().counts(SLUG)) == before  # nothing counted at the origin
    from app import record_first_views

    record_first_views(edge.deliver_log())
    after = Counter(wiring.numbers().counts(SLUG))
    after.subtract(before)
    assert {k: v for k, v in after.items() if v} == dict(drawn)
    assert sum(drawn.values()) >= 12  # every visitor is in at least one experiment
