from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.shop.visitors import cookie_value, identify


def test_new_visitor_gets_a_cookie_and_keeps_its_id() -> None:
    visitor, token = identify(None)
    assert visitor.is_new and token
    again, none = identify(f"a=1; dfv={token}; b=2")
    assert again.id == visitor.id and not again.is_new and none is None


@given(st.text(max_size=300))
def test_any_cookie_header_gives_a_visitor(header: str) -> None:
    visitor, _ = identify(header)
    assert 8 <= len(visitor.id) <= 64


def test_cookie_value_parsing() -> None:
    assert cookie_value('x=1; dfv="abc"') == "abc"
    assert cookie_value("dfvx=1") is None
    assert cookie_value("dfv=") is None
