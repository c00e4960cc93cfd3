"""The Jinja environments for the shipped templates: one per UI locale, autoescape always on.

Each environment has its locale's gettext catalog installed, so templates use ``_()``/``ngettext``
and ``{% trans %}`` and rendering needs no per-request setup.
"""

from __future__ import annotations

from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from chalicelib.config import settings
from chalicelib.pages import formatting

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


@lru_cache(maxsize=16)
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def build_environment(locale: str, templates_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=settings().is_local,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda minor, currency: formatting.money(minor, currency, locale)
    return env


@lru_cache(maxsize=16)
def environment(locale: str) -> Environment:
    return build_environment(locale, settings().templates_dir)


def template(locale: str, name: str) -> Template:
    return environment(locale).get_template(name)
