"""The shipped templates compiled for the package render exactly what their sources do."""

from __future__ import annotations

import shutil
from pathlib import Path

from chalicelib.config import settings
from chalicelib.pages.environment import build_environment, compile_shipped
from tests.shop.test_page import demo_context


def test_compiled_templates_render_what_their_sources_do(tmp_path: Path) -> None:
    templates = shutil.copytree(settings().templates_dir, tmp_path / "templates")
    (templates / "email" / "probe.txt").write_text("{{ name }}")
    (templates / "email" / "probe.html").write_text("{{ name }}")
    shipped = [p for p in templates.rglob("*") if p.is_file() and "studio" not in p.relative_to(templates).parts]
    assert compile_shipped(templates) == len(shipped)
    context = demo_context(0.5, "scarcity")
    from_source = build_environment("en", templates, local=False, precompiled=False)
    expected = from_source.get_template("landing.html").render(context)
    for source in shipped:
        source.unlink()  # what renders now can only come from the compiled modules
    compiled = build_environment("en", templates, local=False)
    assert compiled.get_template("landing.html").render(context) == expected
    # autoescape is decided when a template is compiled: still off for plain text only
    assert compiled.get_template("email/probe.txt").render(name="Ada & Co") == "Ada & Co"
    assert compiled.get_template("email/probe.html").render(name="Ada & Co") == "Ada &amp; Co"


def test_a_checkout_renders_from_the_sources(tmp_path: Path) -> None:
    """Without a compiled directory (a developer's tree), templates are read from their files."""
    templates = shutil.copytree(settings().templates_dir, tmp_path / "templates")
    (templates / "error.html").write_text("edited {{ 1 + 1 }}")
    assert build_environment("en", templates, local=True).get_template("error.html").render() == "edited 2"
