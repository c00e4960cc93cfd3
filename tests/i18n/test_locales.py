from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.i18n.locales import UI_LOCALES, negotiate, parse_accept_language, text_direction


def test_accept_language_is_ordered_by_quality() -> None:
    assert parse_accept_language("fr;q=0.5, de, en;q=0.9") == ("de", "en", "fr")
    assert parse_accept_language("de;q=0, fr") == ("fr",)


@given(st.text(max_size=300))
def test_any_accept_language_header_parses(header: str) -> None:
    tags = parse_accept_language(header)
    assert len(tags) <= 12


def test_negotiation_order() -> None:
    available = ("en", "fr", "ja")
    assert negotiate("ja", "fr", available, "en") == "ja"
    assert negotiate("de", "fr-CA,fr;q=0.9", available, "en") == "fr"
    assert negotiate(None, "de", available, "fr") == "fr"


def test_every_ui_locale_has_a_direction() -> None:
    assert {tag: text_direction(tag) for tag in UI_LOCALES} == {
        "en": "ltr",
        "fr": "ltr",
        "de": "ltr",
        "es": "ltr",
        "ja": "ltr",
        "ar": "rtl",
    }
