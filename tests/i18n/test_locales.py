from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.i18n.locales import (
    UI_LOCALE_NAMES,
    UI_LOCALES,
    babel_locale,
    babel_name,
    display_name,
    negotiate,
    parse_accept_language,
    text_direction,
)


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


def test_the_ui_locales_names_and_directions_are_babels() -> None:
    """Written down so a cold start loads only the request's locale data; kept equal to CLDR's."""
    assert set(UI_LOCALE_NAMES) == set(UI_LOCALES)
    assert {tag: display_name(tag) for tag in UI_LOCALES} == {tag: babel_name(tag) for tag in UI_LOCALES}
    assert {tag: text_direction(tag) for tag in UI_LOCALES} == {
        tag: babel_locale(tag).text_direction for tag in UI_LOCALES
    }


def test_other_locales_are_named_from_babel() -> None:
    assert display_name("it") == "Italiano"
    assert text_direction("he") == "rtl"
