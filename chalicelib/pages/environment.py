"""The Jinja environments for the shipped templates: one per UI locale, autoescape always on.

Each environment has its locale's gettext catalog installed, so templates use ``_()``/``ngettext``
and ``{% trans %}`` and rendering needs no per-request setup. The deployment package carries the
shipped templates compiled to Python modules (``compile_shipped``) beside their sources, so a cold
start loads bytecode instead of lexing, parsing and generating code for each page it renders.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.support import Translations
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    ModuleLoader,
    StrictUndefined,
    Template,
    select_autoescape,
)

from chalicelib.config import settings
from chalicelib.i18n import formatting

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
COMPILED_TEMPLATES = "compiled-templates"
"""The directory beside the templates' that holds them compiled (the package has it; a checkout does
not, so editing a template locally is never shadowed by an old compilation)."""


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


def _loader(templates_dir: Path, precompiled: bool) -> BaseLoader:
    source = FileSystemLoader(str(templates_dir))
    compiled = templates_dir.parent / COMPILED_TEMPLATES
    if precompiled and compiled.is_dir():
        return ChoiceLoader([ModuleLoader(str(compiled)), source])
    return source


def build_environment(locale: str, templates_dir: Path, *, local: bool, precompiled: bool = True) -> Environment:
    """Autoescape is on for every shipped template but the plain-text emails (``.txt``), which are not
    HTML: an ``&`` in a link or a name must stay an ``&`` there. Run locally, an edited template is
    read again."""
    env = Environment(
        loader=_loader(templates_dir, precompiled),
        autoescape=select_autoescape(enabled_extensions=(), disabled_extensions=("txt",), default=True),
        auto_reload=local,
        **JINJA_OPTIONS,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(page_filters(locale))
    return env


def compile_shipped(templates_dir: Path) -> int:
    """Compile the shopper's templates (not the studio's, which its own environment renders) into
    ``COMPILED_TEMPLATES`` beside ``templates_dir``; how many. Autoescape and gettext's style are
    decided at compile time and are the same for every locale, so one compilation serves all six."""
    target = templates_dir.parent / COMPILED_TEMPLATES
    env = build_environment("en", templates_dir, local=False, precompiled=False)
    names = [name for name in env.list_templates() if not name.startswith("studio/")]
    env.compile_templates(str(target), filter_func=names.__contains__, zip=None, ignore_errors=False)
    return len(names)


@lru_cache(maxsize=16)
def environment(locale: str) -> Environment:
    config = settings()
    return build_environment(locale, config.templates_dir, local=config.is_local)


def template(locale: str, name: str) -> Template:
    return environment(locale).get_template(name)
