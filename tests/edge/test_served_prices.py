"""The proof that edge caching never shows anyone another segment's prices: visitors across every
segment and experiment cell view a drop through the local edge (the CloudFront Function under node,
the same cache rules), and each page, rendered for whichever visitor of the segment came first,
carries exactly the prices the origin renders for this visitor alone. Forged, copied-over and
missing segment cookies get the anonymous visitor's prices, never the segment they claim."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalice.test import Client

from chalicelib import wiring
from chalicelib.core.tokens import Purpose, sign, signing_keys
from chalicelib.edge.segment import MINTED_HEADER, SEGMENT_HEADER, edge_keys, unseal
from chalicelib.pricing.experiments import assign
from chalicelib.shop.visitors import campaign_link
from devtools.local_edge import Edge

SLUG = "linen-lab"
PARIS = {
    "cloudfront-viewer-latitude": "48.8630",
    "cloudfront-viewer-longitude": "2.3610",
    "cloudfront-viewer-city": "Paris",
}
MARKETS = (
    {"cloudfront-viewer-country": "FR", "accept-language": "fr-FR,fr;q=0.9"},
    {"cloudfront-viewer-country": "US"},
)
CARD = re.compile(r'<li class="card" data-sku="([^"]+)" data-price-minor="(\d+)"')


@dataclass
class Viewer:
    """A phone: its cookies (as the browser keeps them) and what CloudFront says of it."""

    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)

    def cookie_header(self) -> dict[str, str]:
        return {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def keep(self, answered: list[tuple[str, str]]) -> None:
        for name, value in answered:
            if name.lower() == "set-cookie":
                cookie = value.partition(";")[0]
                key, _, kept = cookie.partition("=")
                self.cookies[key.strip()] = kept


def through_edge(edge: Edge, viewer: Viewer, path: str, **extra: str) -> tuple[int, dict[str, str], str]:
    status, answered, body = edge.answer(
        "GET", path, {**viewer.headers, **viewer.cookie_header(), **extra}, b"", "198.51.100.7"
    )
    viewer.keep(answered)
    return status, {k.lower(): v for k, v in answered if k.lower() != "set-cookie"}, body.decode()


def prices(page: str) -> dict[str, int]:
    found = {sku: int(price) for sku, price in CARD.findall(page)}
    assert found, "the page lists products"
    return found


def origin_alone(client: Client, viewer: Viewer, minted: str | None = None) -> dict[str, int]:
    """The page the origin renders for this visitor alone: their cookies and position, no segment key."""
    headers = {**viewer.headers, **viewer.cookie_header(), **({MINTED_HEADER: minted} if minted else {})}
    answer = client.http.get(f"/drops/{SLUG}", headers=headers)
    assert answer.status_code == 200 and "no-store" in answer.headers["Cache-Control"]
    return prices(answer.body.decode())


def test_every_visitor_sees_through_the_edge_exactly_the_prices_the_origin_renders_for_them(
    client: Client, edge: Edge
) -> None:
    edge.cache.clock = lambda: 0.0  # every view within the same second: each segment's first view is kept
    campaigns = [
        None,
        campaign_link(tier="gold"),
        campaign_link(cohort="ana"),
        campaign_link(tier="gold", cohort="ana"),
    ]
    first_views, sample, shared_first_views = [], [], 0
    for number in range(32):
        viewer = Viewer({**MARKETS[number % 2], **(PARIS if number % 3 == 0 else {})})
        status, headers, page = through_edge(edge, viewer, f"/drops/{SLUG}")  # a new visitor, given an id at the edge
        assert status == 200 and "dfs" in viewer.cookies
        first_views.append((Viewer(viewer.headers), viewer.cookies["dfs"], page))
        shared_first_views += headers["x-cache"].startswith("Hit")  # rendered for an earlier visitor
        if campaign := campaigns[number % 4]:  # the edge reads the grant: their key and cookie say it at once
            _, _, page = through_edge(edge, viewer, f"/drops/{SLUG}?c={campaign}")
            first_views.append((Viewer(viewer.headers), viewer.cookies["dfs"], page))
        sample.append(viewer)
    later_views = [(viewer, through_edge(edge, viewer, f"/drops/{SLUG}")) for viewer in sample * 2]

    for phone, sealed, page in first_views:  # as the origin prices the visitor the cookie describes
        assert prices(page) == origin_alone(client, Viewer(phone.headers, {"dfs": sealed}))
    rendered_alone = {id(viewer): origin_alone(client, viewer) for viewer in sample}
    for viewer, (status, _, page) in later_views:
        assert status == 200 and prices(page) == rendered_alone[id(viewer)]
        assert 'name="ft" value=""' in page  # nothing of any visitor's in a page kept for a segment
    distinct_prices = {tuple(sorted(p.items())) for p in rendered_alone.values()}
    assert len(distinct_prices) >= 4, "the sample spans segments and cells that price differently"
    kept = len(edge.cache.entries)
    assert edge.cache.counts["miss"] == kept  # every view keyed, the campaign links' too
    assert edge.cache.counts["hit"] == len(first_views) + len(later_views) - kept
    assert shared_first_views >= 8, "new visitors of one segment shared a page"
    policy = wiring.catalog().policy(SLUG).policy
    assert policy is not None
    ids = [unseal(viewer.cookies["dfs"], edge_keys(signing_keys())) for viewer in sample]
    drawn = {
        f"{a.experiment}.{a.cell.name}"
        for profile in ids
        if profile
        for a in assign(profile.visitor_id, policy.experiments)
    }
    assert {"launch-depth.control", "launch-depth.five-off"} <= drawn, "both price cells are in the sample"


def test_a_forged_or_missing_segment_cookie_never_gets_another_segments_prices(client: Client, edge: Edge) -> None:
    gold = Viewer({"cloudfront-viewer-country": "US"})
    through_edge(edge, gold, f"/drops/{SLUG}?c={campaign_link(tier='gold')}")
    _, _, gold_page = through_edge(edge, gold, f"/drops/{SLUG}")
    nobody = Viewer({"cloudfront-viewer-country": "US"})
    _, _, anonymous_page = through_edge(edge, nobody, f"/drops/{SLUG}")
    assert prices(gold_page) != prices(anonymous_page), "the demo's gold tier has its own prices"

    # A visitor rewrites their own signed cookie to say gold: the signature no longer holds.
    plain = Viewer({"cloudfront-viewer-country": "US"})
    through_edge(edge, plain, f"/drops/{SLUG}")
    payload, kid, signature = plain.cookies["dfs"].split(".")
    forged = Viewer(plain.headers, {"dfs": f"{payload}~t:gold.{kid}.{signature}"})
    _, _, page = through_edge(edge, forged, f"/drops/{SLUG}")
    assert prices(page) != prices(gold_page)
    assert prices(page) == origin_alone(client, Viewer(plain.headers), minted=forged.cookies["dfs"])

    # A gold visitor's payload under another visitor's signature, and the key header sent by the client.
    copied = Viewer(plain.headers, {"dfs": f"{gold.cookies['dfs'].split('.')[0]}.{kid}.{signature}"})
    _, _, page = through_edge(edge, copied, f"/drops/{SLUG}")
    assert prices(page) != prices(gold_page)
    claimed = Viewer(plain.headers, {"dfs": plain.cookies["dfs"]})
    _, _, page = through_edge(edge, claimed, f"/drops/{SLUG}", **{SEGMENT_HEADER: "r~t:gold"})
    assert prices(page) == origin_alone(client, claimed) != prices(gold_page)

    # No cookie at all: a new visitor's page (in the experiment cell their new id draws).
    newcomer = Viewer(plain.headers)
    _, _, page = through_edge(edge, newcomer, f"/drops/{SLUG}")
    assert (
        prices(page) == origin_alone(client, Viewer(plain.headers), minted=newcomer.cookies["dfs"]) != prices(gold_page)
    )


def test_personal_pages_and_answers_are_never_kept(client: Client, edge: Edge) -> None:
    """A page adding to a hold, a campaign link signed before the edge could read grants, and the API."""
    viewer = Viewer({"cloudfront-viewer-country": "US"})
    through_edge(edge, viewer, f"/drops/{SLUG}")
    older_link = sign(Purpose.CAMPAIGN, {"t": "gold"})
    for path in (f"/drops/{SLUG}?c={older_link}", f"/drops/{SLUG}?hold=h-1234", "/api/drops", f"/api/drops/{SLUG}"):
        before = edge.cache.counts["origin"]
        through_edge(edge, viewer, path)
        through_edge(edge, viewer, path)
        assert edge.cache.counts["origin"] == before + 2, path
    profile = unseal(viewer.cookies["dfs"], edge_keys(signing_keys()))
    assert profile is not None and profile.tier == "gold"  # the older link still works, at the origin
    _, headers, _ = through_edge(edge, viewer, f"/drops/{SLUG}")
    assert headers["cache-control"].startswith("public") and "s-maxage=1" in headers["cache-control"]
    assert headers["vary"] == "Accept-Language"  # not Cookie: the segment key stands for it


def test_a_campaign_link_is_read_at_the_edge_and_the_visitor_keeps_it(client: Client, edge: Edge) -> None:
    edge.cache.clock = lambda: 0.0
    gold, later = Viewer({"cloudfront-viewer-country": "US"}), Viewer({"cloudfront-viewer-country": "US"})
    link = campaign_link(tier="gold")
    for viewer in (gold, later):
        through_edge(edge, viewer, f"/drops/{SLUG}")
        through_edge(edge, viewer, f"/drops/{SLUG}?c={link}")
        profile = unseal(viewer.cookies["dfs"], edge_keys(signing_keys()))
        assert profile is not None and profile.tier == "gold"
    expired = campaign_link(tier="gold", now=datetime.now(UTC) - timedelta(days=31))
    newcomer = Viewer({"cloudfront-viewer-country": "US"})
    through_edge(edge, newcomer, f"/drops/{SLUG}?c={expired}")
    profile = unseal(newcomer.cookies["dfs"], edge_keys(signing_keys()))
    assert profile is not None and profile.tier is None
    tampered = link.replace("t:gold", "t:vip", 1)
    through_edge(edge, newcomer, f"/drops/{SLUG}?c={tampered}")
    assert unseal(newcomer.cookies["dfs"], edge_keys(signing_keys())).tier is None  # type: ignore[union-attr]
