"""Which locale a visitor gets: ``?lang=``, then ``Accept-Language``, then the market's default."""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, negotiate_locale

UI_LOCALES: tuple[str, ...] = ("en", "fr", "de", "es", "ja", "ar")
"""Locales with UI string catalogs. A drop's copy may cover fewer."""

LANG_PATTERN = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}$")
MAX_ACCEPT_LANGUAGE_ENTRIES = 12


@lru_cache(maxsize=64)
def babel_locale(tag: str) -> Locale:
    return Locale.parse(tag)


UI_LOCALE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "ja": "日本語",
    "ar": "العربية",
}
"""Each UI locale's name in its own language, capitalised, as Babel's CLDR data gives it (a test holds
them equal). Every page's language switcher names all six: reading them from Babel loaded six
locales' data on a cold start (about 20 ms) where the page needs its own locale's only."""
RIGHT_TO_LEFT_UI_LOCALES = frozenset({"ar"})


@lru_cache(maxsize=64)
def text_direction(tag: str) -> str:
    if tag in UI_LOCALE_NAMES:
        return "rtl" if tag in RIGHT_TO_LEFT_UI_LOCALES else "ltr"
    return babel_locale(tag).text_direction


@lru_cache(maxsize=64)
def display_name(tag: str) -> str:
    """The locale's name in its own language ("Deutsch"), for the language switcher."""
    if tag in UI_LOCALE_NAMES:
        return UI_LOCALE_NAMES[tag]
    return babel_name(tag)


def babel_name(tag: str) -> str:
    """The locale's name in its own language, from its CLDR data."""
    name = babel_locale(tag).get_display_name(tag) or tag
    return name[:1].upper() + name[1:]


@lru_cache(maxsize=512)
def parse_accept_language(header: str) -> tuple[str, ...]:
    """Language tags from an ``Accept-Language`` header, best first; malformed entries are skipped."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[: MAX_ACCEPT_LANGUAGE_ENTRIES * 2]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not LANG_PATTERN.match(tag):
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if 0 < quality <= 1:
            weighted.append((-quality, index, tag.replace("_", "-")))
    weighted.sort()
    return tuple(tag for _, _, tag in weighted[:MAX_ACCEPT_LANGUAGE_ENTRIES])


def negotiate(requested: str | None, accept_language: str | None, available: tuple[str, ...], default: str) -> str:
    """The best of ``available`` for this request. ``requested`` must already match LANG_PATTERN."""
    if requested:
        found = negotiate_locale([requested.replace("_", "-")], available, sep="-")
        if found:
            return found
    if accept_language:
        found = negotiate_locale(list(parse_accept_language(accept_language)), available, sep="-")
        if found:
            return found
    return default
