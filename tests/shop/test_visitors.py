from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.config import settings
from chalicelib.core.tokens import signing_keys
from chalicelib.edge.segment import Profile, edge_keys, minted_id, seal, unseal
from chalicelib.shop.visitors import campaign_link, identify


def jar(set_cookies: tuple[str, ...]) -> dict[str, str]:
    """The cookies ``Set-Cookie`` values set, by name."""
    return dict(value.split(";", 1)[0].split("=", 1) for value in set_cookies)


@pytest.fixture
def behind_edge(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("DROPFRONT_EDGE_STORE_FILE", f"{tmp_path}/edge.json")
    settings.cache_clear()


def test_without_an_edge_a_new_visitor_gets_the_app_cookie_alone() -> None:
    visitor, set_cookies = identify(None)
    assert visitor.is_new and set(jar(set_cookies)) == {"dfv"}


@pytest.mark.usefixtures("behind_edge")
def test_new_visitor_gets_both_cookies_and_keeps_its_id() -> None:
    visitor, set_cookies = identify(None)
    cookies = jar(set_cookies)
    assert visitor.is_new and set(cookies) == {"dfv", "dfs"}
    assert unseal(cookies["dfs"], edge_keys(signing_keys())) == Profile(visitor.id)
    again, none = identify(f"a=1; dfv={cookies['dfv']}; dfs={cookies['dfs']}; b=2")
    assert again.id == visitor.id and not again.is_new and none == ()


def test_a_visitor_the_edge_gave_an_id_is_new_with_it_then_returning_with_its_cookie() -> None:
    minted = seal(Profile(minted_id("request-1")), edge_keys(signing_keys())[-1])
    first, set_cookies = identify(None, minted=minted)
    assert first.is_new and first.id == minted_id("request-1") and "dfv" in jar(set_cookies)
    later, none = identify(f"dfs={minted}")  # the edge set it; the app's own cookie never arrived
    assert later.id == first.id and not later.is_new and none == ()


@pytest.mark.usefixtures("behind_edge")
def test_a_campaign_link_re_signs_the_edge_cookie_with_the_tier() -> None:
    visitor, set_cookies = identify(None, campaign=campaign_link(tier="gold"))
    profile = unseal(jar(set_cookies)["dfs"], edge_keys(signing_keys()))
    assert profile == Profile(visitor.id, tier="gold")


def test_a_forged_edge_cookie_is_a_new_visitor() -> None:
    real = seal(Profile("visitor-0001"), edge_keys(signing_keys())[-1])
    _, kid, signature = real.split(".")
    forged = f"v:visitor-0001~t:gold.{kid}.{signature}"
    visitor, _ = identify(f"dfs={forged}")
    assert visitor.is_new and visitor.tier is None and visitor.id != "visitor-0001"


@given(st.text(max_size=300))
def test_any_cookie_header_gives_a_visitor(header: str) -> None:
    visitor, _ = identify(header)
    assert 8 <= len(visitor.id) <= 64
