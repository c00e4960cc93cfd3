from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.i18n import formatting


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "expected"),
    [
        (12000, "USD", "en", "$120.00"),
        (11000, "EUR", "fr", "110,00\u00a0€"),
        (11000, "EUR", "de", "110,00\u00a0€"),
        (18000, "JPY", "ja", "￥18,000"),
        (5, "EUR", "en", "€0.05"),
    ],
)
def test_money_from_minor_units(minor: int, currency: str, locale: str, expected: str) -> None:
    assert formatting.money(minor, currency, locale) == expected


def test_major_units_follow_the_currency_digits() -> None:
    assert formatting.major_units(12050, "USD") == "120.50"
    assert formatting.major_units(18000, "JPY") == "18000"


def test_formatters_are_cached() -> None:
    formatting.money.cache_clear()
    formatting.money(100, "USD", "en")
    formatting.money(100, "USD", "en")
    assert formatting.money.cache_info().hits == 1


def test_local_time_is_in_the_zone_asked_for() -> None:
    moment = datetime(2030, 7, 1, 12, 0, tzinfo=UTC)
    assert "14:00" in formatting.local_datetime(moment, "Europe/Paris", "fr")
    assert "8:00" in formatting.local_datetime(moment, "America/New_York", "en")
    assert formatting.local_datetime(moment, "../etc/passwd", "en") == formatting.local_datetime(moment, "UTC", "en")


@pytest.mark.parametrize("name", ["", "x" * 100, "../x", "Not/AZone", "Europe/Paris\x00"])
def test_bad_zone_names_are_none(name: str) -> None:
    assert formatting.timezone(name) is None


@pytest.mark.parametrize(
    ("zone", "locale", "expected"),
    [
        ("Europe/Paris", "en", "Paris Time"),
        ("America/New_York", "en", "New York Time"),
        ("Europe/Paris", "fr", "heure : Paris"),
        ("Europe/Paris", "de", "Paris (Ortszeit)"),
        ("America/New_York", "es", "hora de Nueva York"),
        ("Europe/Paris", "ja", "パリ時間"),
        ("Europe/Paris", "ar", "توقيت باريس"),
        ("UTC", "fr", "UTC"),
    ],
)
def test_a_zone_is_named_by_its_city(zone: str, locale: str, expected: str) -> None:
    assert formatting.zone_name(zone, locale) == expected


def test_slot_dates_name_the_day_and_the_clock_its_hour() -> None:
    moment = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    assert formatting.local_date(moment, "Europe/Paris", "en") == "Thursday, December 3, 2026"
    assert formatting.local_date(moment, "Europe/Paris", "fr", long=False) == "jeu. 3 déc."
    assert formatting.local_clock(moment, "Europe/Paris", "fr") == "10:30"
    assert formatting.local_date(moment.replace(hour=23, minute=30), "Europe/Paris", "en").startswith("Friday")


@pytest.mark.parametrize(
    ("delta", "locale", "expected"),
    [
        (timedelta(days=2, hours=1), "en", "in 2 days"),
        (timedelta(hours=-3, seconds=-0.4), "de", "vor 3 Stunden"),
        (timedelta(seconds=-0.5), "en", "1 minute ago"),  # a moment ago stays in the past
        (timedelta(minutes=5, microseconds=900_000), "fr", "dans 5 minutes"),
    ],
)
def test_relative_time_is_babels_to_the_whole_second(delta: timedelta, locale: str, expected: str) -> None:
    assert formatting.relative_time(delta, locale) == expected


def test_relative_time_is_worked_out_once_per_second_and_locale() -> None:
    formatting._relative_seconds.cache_clear()
    for microseconds in (0, 250_000, 999_999):
        formatting.relative_time(timedelta(hours=5, microseconds=microseconds), "ja")
    info = formatting._relative_seconds.cache_info()
    assert (info.misses, info.hits) == (1, 2)
