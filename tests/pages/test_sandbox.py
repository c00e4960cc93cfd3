"""The marketers' sandbox: SSTI payloads and CVE regressions refused, resource abuse stopped within the
budget, markup escaped, and save-time problems reported by line and column."""

from __future__ import annotations

import time
import tracemalloc
from gettext import NullTranslations
from pathlib import Path
from typing import Any

import pytest

from chalicelib.pages.sandbox import (
    MAX_OUTPUT_CHARS,
    RENDER_SECONDS,
    RenderRefused,
    Sandbox,
    TemplateRejected,
)

CONTEXT_NAMES = ("product", "drop", "link", "sentinel")


class Sentinel:
    """Passed into every render: if any payload manages to call it, code ran that should not have."""

    fired = False

    def fire(self) -> str:
        Sentinel.fired = True
        return "fired"

    fire.unsafe_callable = True  # type: ignore[attr-defined]


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox({"partials/footer.html": "<footer>{{ drop }}</footer>"})


@pytest.fixture
def context() -> dict[str, Any]:
    Sentinel.fired = False
    return {
        "product": {"name": "Linen overshirt"},
        "drop": "Linen Lab",
        "link": "https://x.example",
        "sentinel": Sentinel(),
    }


def outcome(sandbox: Sandbox, source: str, context: dict[str, Any]) -> str:
    """'refused at save', 'refused at render', or the rendered output."""
    try:
        template = sandbox.compile(source, CONTEXT_NAMES)
    except TemplateRejected:
        return "refused at save"
    try:
        return sandbox.render(template, context)
    except RenderRefused:
        return "refused at render"


PROOF = "/tmp/dropfront-ssti-proof"
SSTI_PAYLOADS = [
    # PayloadsAllTheThings, Server Side Template Injection / Jinja2
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ config.items() }}",
    "{{ self.__dict__ }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('touch " + PROOF + "').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch " + PROOF + "').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('touch " + PROOF + "').read() }}",
    "{{ namespace.__init__.__globals__.os.popen('touch " + PROOF + "').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch " + PROOF + "').read() }}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{ get_flashed_messages.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "{{ url_for.__globals__['current_app'].config }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
    "{{ x()._module.__builtins__['__import__']('os').popen('touch " + PROOF + "').read() }}{% endif %}{% endfor %}",
    "{{ ()|attr('__class__')|attr('__base__')|attr('__subclasses__')() }}",
    "{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}",
    "{{ product|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ product.__class__ }}",
    "{{ product['__class__'] }}",
    "{% set x = product.pop('name') %}{{ x }}",
    "{{ sentinel.fire() }}",
    "{{ product.name|safe }}",
    # CVE-2016-10745: str.format reaching attributes
    "{{ '{0.__class__.__init__.__globals__}'.format(sentinel) }}",
    # CVE-2019-10906: str.format_map
    "{{ '{0.__class__}'.format_map({'0': sentinel}) }}",
    # CVE-2024-56326: an indirect reference to str.format
    "{% set f = '{0.fire.__globals__}'.format %}{{ f(sentinel) }}",
    # CVE-2025-27516: |attr to fetch format
    "{{ '{0.__init__.__globals__}'|attr('format')(sentinel) }}",
]


@pytest.mark.parametrize("payload", SSTI_PAYLOADS)
def test_ssti_payloads_are_refused_and_run_nothing(sandbox: Sandbox, context: dict[str, Any], payload: str) -> None:
    result = outcome(sandbox, payload, context)
    assert result in ("refused at save", "refused at render"), result
    assert not Sentinel.fired
    assert not Path(PROOF).exists()


ABUSE = [
    "{{ 'x' * 10**9 }}",
    "{{ 9**9**9 }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(200) %}{% for j in range(200) %}{{ i }}{% endfor %}{% endfor %}",
    "{% macro boom(n) %}{{ boom(n + 1) }}{% endmacro %}{{ boom(1) }}",
    "{% for i in range(100) %}{{ 'y' * 5000 }}{% endfor %}",
    "{{ '%9999999999d'|format(1) }}",
    "{{ '%9999999d' % 1 }}",
    "{{ (('a' * 200000) ~ ('b' * 200000)) }}",
    "{{ lipsum(n=100000) }}",
    "{% if 1 %}" * 60 + "x" + "{% endif %}" * 60,
    "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}",
]


@pytest.mark.parametrize("payload", ABUSE)
def test_resource_abuse_is_refused_within_the_budget(sandbox: Sandbox, context: dict[str, Any], payload: str) -> None:
    started = time.monotonic()
    result = outcome(sandbox, payload, context)
    assert result in ("refused at save", "refused at render"), result[:200]
    assert time.monotonic() - started < RENDER_SECONDS + 1.0


def test_markup_in_data_renders_inert(sandbox: Sandbox, context: dict[str, Any]) -> None:
    context["product"] = {"name": "<script>alert(1)</script>"}
    context["link"] = "javascript:alert(1)"
    page = outcome(
        sandbox,
        '<h1>{{ product.name }}</h1><a href="{{ link }}">x</a>'
        '<script type="application/ld+json">{{ product|tojson }}</script>',
        context,
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "\\u003cscript\\u003e" in page  # tojson escapes for a script context


def test_an_ordinary_template_renders_and_includes_an_allowed_partial(
    sandbox: Sandbox, context: dict[str, Any]
) -> None:
    page = outcome(sandbox, "<h1>{{ product.name|upper }}</h1>{% include 'partials/footer.html' %}", context)
    assert page == "<h1>LINEN OVERSHIRT</h1><footer>Linen Lab</footer>"


def test_only_allow_listed_templates_can_be_included(sandbox: Sandbox, context: dict[str, Any]) -> None:
    assert outcome(sandbox, "{% include '/etc/passwd' %}", context) == "refused at render"
    assert outcome(sandbox, "{% include 'landing.html' %}", context) == "refused at render"


def test_save_time_problems_name_line_and_column(sandbox: Sandbox) -> None:
    source = "<p>ok</p>\n<p>{{ prodcut.name }}</p>\n<p>{{ drop }}</p>\n{% for x in %}"
    syntax = sandbox.check(source, CONTEXT_NAMES)
    assert [(p.line, p.message.split()[0]) for p in syntax] == [(4, "Expected")]
    unknown = sandbox.check("<p>ok</p>\n<p>{{ prodcut.name }}</p>", CONTEXT_NAMES)
    assert [(p.line, p.column, p.message) for p in unknown] == [(2, 7, "unknown variable 'prodcut'")]


def test_an_oversized_template_is_refused_at_save(sandbox: Sandbox) -> None:
    problems = sandbox.check("x" * (64 * 1024 + 1), CONTEXT_NAMES)
    assert [p.message for p in problems] == ["the template is larger than 64 KB"]


def test_output_is_capped(sandbox: Sandbox, context: dict[str, Any]) -> None:
    source = "{% for i in range(20) %}{{ 'z' * 20000 }}{% endfor %}"
    assert outcome(sandbox, source, context) == "refused at render"
    assert MAX_OUTPUT_CHARS < 20 * 20000


HOSTILE = [
    # loops over values that are not range(): nested, silent, over strings and context lists
    "{% for a in 'x' * 200 %}{% for b in 'x' * 200 %}{% for c in 'x' * 200 %}{% endfor %}{% endfor %}{% endfor %}",
    "{% set l = [1] * 200 %}{% for a in l %}{% for b in l %}{% for c in l %}{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in drop %}{% for b in drop * 100 %}{% for c in drop * 100 %}{% endfor %}{% endfor %}{% endfor %}",
    "{% for k in product %}{% for a in range(150) %}{% for b in range(150) %}{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in range(19000) %}{% set x = a %}{% endfor %}{% for b in range(19000) %}{% endfor %}",
    "{% for a in [0] * 20000 %}{% endfor %}{% for b in [0] * 20000 %}{% endfor %}",
    "{% for a in (drop ~ drop ~ drop) * 1000 %}{% endfor %}",
    "{% for a in range(3000) recursive %}{% if loop.depth < 5 %}{{ loop(range(3)) }}{% endif %}{% endfor %}",
    # values grown by concatenation, repetition, joins, filters and formatting
    "{% set s = namespace(v='xxxx') %}{% for i in range(30) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v|length }}",
    "{% set s = namespace(v='xxxx') %}{% for i in range(30) %}{% set s.v = s.v + s.v %}{% endfor %}",
    "{% set big = 'a' * 200000 %}{{ ([big] * 100)|join }}",
    "{% set big = 'a' * 200000 %}{{ range(20000)|join(big) }}",
    "{% set big = 'a' * 200000 %}{{ [big, big, big]|join }}",
    "{% set big = 'a' * 200000 %}{{ big ~ big ~ big }}",
    "{% set big = 'a' * 200000 %}{{ (big ~ big)|upper }}",
    "{% set big = 'a' * 200000 %}{{ (big * 2)|length }}",
    "{% set big = 'a' * 200000 %}{{ [big] * 3 }}",
    "{% set big = 'a&' * 100000 %}{{ big|urlencode }}",
    "{% set big = '<' * 100000 %}{{ big|tojson }}",
    "{% set big = 'a' * 200000 %}{{ _('%(x)s%(x)s%(x)s%(x)s', x=big) }}",
    "{{ _('%(x)s' * 5000, x='y' * 1000) }}",
    "{% set big = 'a' * 200000 %}{{ {'k': big, 'j': big}|tojson }}",
    "{% set l = range(20000)|list %}{{ l }}",
    "{{ (('ab' * 100000) ~ ('cd' * 100000)) ~ ('ef' * 100000) }}",
    "{% macro f(s) %}{{ s ~ s }}{% endmacro %}{{ f(f(f(f(f(f(f(f('x' * 4000)))))))) }}",
    "{% macro m() %}{% for i in range(5000) %}{{ caller() }}{% endfor %}{% endmacro %}"
    "{% call m() %}{{ 'z' * 100 }}{% endcall %}",
    "{% filter upper %}{% for i in range(5000) %}{{ 'q' * 100 }}{% endfor %}{% endfilter %}",
    "{% set x %}{% for i in range(5000) %}{{ 'q' * 100 }}{% endfor %}{% endset %}{{ x ~ x ~ x }}",
    "{{ 10 ** 60 * 10 ** 60 }}",
    "{% set n = namespace(v=2) %}{% for i in range(20) %}{% set n.v = n.v * n.v %}{% endfor %}{{ n.v }}",
    "{{ ('x' * 250000) ~ ('y' * 250000) }}",
    "{% for i in range(10) %}{% for j in range(1900) %}{{ (drop ~ '') * 2 }}{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_templates_cost_at_most_the_budget(context: dict[str, Any], payload: str) -> None:
    """Each shape is refused, in about the render budget and without building a value beyond a page
    (a sandbox with translations, as pages have). The budget is the rendering thread's CPU time, so
    that is what is measured: a machine busy with other work stretches the wall clock, not the cost.
    Time and memory are measured in separate renders: tracing allocations slows every one of them."""
    sandbox = Sandbox({"partials/footer.html": "<footer>{{ drop }}</footer>"}, gettext=NullTranslations())
    started = time.thread_time()
    result = outcome(sandbox, payload, context)
    seconds = time.thread_time() - started
    tracemalloc.start()
    try:
        assert outcome(sandbox, payload, context) == result
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result in ("refused at save", "refused at render"), result[:120]
    assert seconds < RENDER_SECONDS + 0.25
    assert peak < 32 * 1024 * 1024


def test_ordinary_loops_joins_filter_blocks_and_calls_still_render(sandbox: Sandbox, context: dict[str, Any]) -> None:
    page = outcome(
        sandbox,
        "{% macro li(x) %}<li>{{ caller() }} {{ x }}</li>{% endmacro %}"
        "{% for w in ['a', 'b'] %}{% call li(loop.index) %}{{ w|upper }}{% endcall %}{% endfor %}"
        "{{ ['x', 'y']|join(', ') }} {{ drop ~ '!' }} {% filter lower %}LOUD{% endfilter %}",
        context,
    )
    assert page == "<li>A 1</li><li>B 2</li>x, y Linen Lab! loud"


def test_translations_render_and_are_metered(context: dict[str, Any]) -> None:
    translated = Sandbox({}, gettext=NullTranslations())
    assert outcome(translated, "{{ _('Hi %(n)s', n=drop) }}", context) == "Hi Linen Lab"
    assert outcome(translated, "{{ _('%(n)s' * 2000, n=drop * 20) }}", context) == "refused at render"


SCRIPTING = [
    "<script>alert(1)</script>",
    "<SCRIPT src=//evil.example/x.js></SCRIPT>",
    "<scr{{ '' }}ipt>alert(1)</scr{{ '' }}ipt>",
    "<{{ 'script' }}>alert(1)</{{ 'script' }}>",
    "<svg><script>alert(1)</script></svg>",
    '<img src="x" onerror="alert(1)">',
    "<body onload=alert(1)>",
    "<a {{ 'onclick' }}=alert(1)>x</a>",
    "<a href={{ link }}>x</a>",
    '<a href="javascript:alert(1)">x</a>',
    "<a href=\"java{{ '' }}script:alert(1)\">x</a>",
    '<iframe src="https://evil.example"></iframe>',
    '<div srcdoc="&lt;script&gt;">x</div>',
    '<object data="x.swf"></object>',
    '<embed src="x.swf">',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "{{ _script_nonce }}",
]


@pytest.mark.parametrize("payload", SCRIPTING)
def test_a_marketer_template_cannot_run_script(sandbox: Sandbox, context: dict[str, Any], payload: str) -> None:
    assert outcome(sandbox, payload, context) == "refused at save"


def test_markup_cannot_be_cut_into_raw_html(context: dict[str, Any]) -> None:
    """A captured block or an include is markup; any piece cut from it prints escaped, so our HTML
    (a ``<``, the script partial's nonce) cannot be reassembled into a tag."""
    script = Sandbox({"partials/x.js.html": '<script nonce="{{ _script_nonce }}">go()</script>'})
    context = {**context, "_script_nonce": "SECRET-NONCE"}
    cases = {
        "{% set s %}<b>x</b>{% endset %}{{ s[0] }}{{ s|first }}{{ s[:3] }}": "&lt;&lt;&lt;b&gt;",
        "{% set s %}<b>x</b>{% endset %}{{ s.split('>')|first }}{{ s.upper()[1:] }}": "&lt;bB&gt;X&lt;/B&gt;",
        "{% set s %}{% include 'partials/x.js.html' %}{% endset %}{{ s|truncate(20, end='') }}": "&lt;script",
        "{% set s %}<i>{% endset %}{{ s ~ s }}{{ s }}": "<i><i><i>",
    }
    for source, expected in cases.items():
        page = outcome(script, source, context)
        assert page == expected and "<script" not in page and "SECRET" not in page
    included = outcome(script, "{% include 'partials/x.js.html' %}", context)
    assert included == '<script nonce="SECRET-NONCE">go()</script>'  # ours, whole, as shipped


def test_the_shipped_pages_pass_the_scripting_check() -> None:
    from chalicelib.pages.published import CONTEXT_NAMES, PAGES, sandbox, shipped_source

    for name in PAGES:
        assert sandbox("en").check(shipped_source(name), CONTEXT_NAMES[name]) == (), name


def test_a_scripting_refusal_points_at_its_line_and_column(sandbox: Sandbox) -> None:
    problems = sandbox.check("<p>fine</p>\n<p>also <script>x()</script></p>", CONTEXT_NAMES)
    assert [(p.line, p.column) for p in problems] == [(2, 9)]
