from __future__ import annotations

from chalicelib.core.cookies import cookie_value


def test_cookie_value_parsing() -> None:
    assert cookie_value('x=1; dfv="abc"', "dfv") == "abc"
    assert cookie_value("dfvx=1", "dfv") is None
    assert cookie_value("dfv=", "dfv") is None
    assert cookie_value("a=1; " + "b" * 5000, "a") is None  # an oversized header is not read at all
