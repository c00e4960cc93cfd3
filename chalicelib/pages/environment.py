"""The Jinja environments for the shipped templates: one per UI locale, autoescape always on.

Each environment has its locale's gettext catalog installed, so templates use ``_()``/``ngettext``
and ``{% trans %}`` and rendering needs no per-request setup.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from chalicelib.config import settings
from chalicelib.i18n import formatting

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


@lru_cache(maxsize=16)
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


JINJA_OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "extensions": ["jinja2.ext.i18n"],
    "trim_blocks": True,
    "lstrip_blocks": True,
}
"""What shipped pages and marketers' sandboxed templates both render with (and autoescape, which each
turns on where ruff can see it): a missing variable is an error, gettext, and the same whitespace rules
(a marketer's copy of a page diffs clean)."""


def page_filters(locale: str) -> dict[str, Callable[..., str]]:
    """The filters every page template may use, bound to its locale."""

    def money(minor: int, currency: str) -> str:
        return formatting.money(minor, currency, locale)

    return {"money": money}


def build_environment(locale: str, templates_dir: Path) -> Environment:
    """Autoescape is on for every shipped template but the plain-text emails (``.txt``), which are not
    HTML: an ``&`` in a link or a name must stay an ``&`` there."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=(), disabled_extensions=("txt",), default=True),
        auto_reload=settings().is_local,
        **JINJA_OPTIONS,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(page_filters(locale))
    return env


@lru_cache(maxsize=16)
def environment(locale: str) -> Environment:
    return build_environment(locale, settings().templates_dir)


def template(locale: str, name: str) -> Template:
    return environment(locale).get_template(name)
