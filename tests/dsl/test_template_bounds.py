"""Template bombs end as ``TemplateRenderError`` quickly and small, never as a stuck worker."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from dsl.bounds import MAX_OUTPUT
from dsl.templates import TemplateRenderError, check_template, render
from dsl.types import Scope

VALUES = {"contact": {"first_name": "Ana", "notes": "x" * 50_000}}

BOMBS = {
    "nested range loops": "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}"
    "{% endfor %}",
    "nested loops under the range limit": "{% for i in range(9000) %}{% for j in range(9000) %}"
    "{% endfor %}{% endfor %}",
    "sum in a loop": "{% for i in range(9000) %}{{ range(9000) | sum }}{% endfor %}",
    "center method": "{{ 'x'.center(10**9) }}",
    "ljust method": "{{ 'x'.ljust(10**9) }}",
    "center filter": "{{ 'x' | center(10**9) }}",
    "indent filter": "{{ ('a\\n' * 50000) | indent(100000) }}",
    "string repetition": "{{ 'ab' * 10**8 }}",
    "list repetition of a long text": "{{ ([contact.notes] * 10000) | join }}",
    "list repetition stringified": "{{ [contact.notes] * 10000 }}",
    "percent width": "{{ '%1000000000d' % 1 }}",
    "percent star width": "{{ '%*d' % (10**9, 1) }}",
    "format nested width": "{{ '{:>{}}'.format(1, 10**9) }}",
    "format filter width": "{{ '%1000000000s' | format('x') }}",
    "replace amplification": "{{ contact.notes.replace('x', contact.notes) }}",
    "replace filter amplification": "{{ contact.notes | replace('x', contact.notes) }}",
    "batch fill": "{{ [1] | batch(10**9, 'x') | list }}",
    "namespace doubling": "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "macro recursion": "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "output length": "{% for i in range(5000) %}" + "y" * 100 + "{% endfor %}",
    "set block of long texts": "{% set s = 'x' * 100000 %}{% set big %}{% for i in range(9000) %}"
    "{{ s }}{% endfor %}{% endset %}{{ big | length }}",
    "macro of long texts": "{% macro m() %}{% for i in range(9000) %}{{ 'x' * 100000 }}"
    "{% endfor %}{% endmacro %}{{ m() | length }}",
    "range over the limit": "{{ range(10**6) | list | length }}",
    "huge integer": "{{ ((10**100)**100)**100 }}",
    "integer growth by multiplication": "{% set ns = namespace(n=10) %}{% for i in range(200) %}"
    "{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n }}",
    "recursive loop": "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
    "deep parentheses": "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
}


@pytest.mark.parametrize("src", list(BOMBS.values()), ids=list(BOMBS))
def test_a_template_bomb_is_a_render_error_in_little_time_and_memory(src):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(TemplateRenderError):
            render(src, VALUES)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("Hi {{ contact.first_name }}", "Hi Ana"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
        ("{{ 'ab' * 3 }}|{{ 'x'.center(5) }}|{{ '%5d' % 42 }}", "ababab|  x  |   42"),
        ("{{ '{} items'.format(1000000) }}", "1000000 items"),
        ("{{ 'Call 5551234567 at %s' % 'noon' }}", "Call 5551234567 at noon"),
        ("{{ contact.notes | length }}", "50000"),
        ("{{ 2 ** 64 }}", str(2**64)),
    ],
)
def test_ordinary_templates_still_render(src, expected):
    assert render(src, VALUES) == expected


def test_output_just_under_the_limit_renders():
    assert len(render(f"{{{{ 'y' * {MAX_OUTPUT} }}}}", {})) == MAX_OUTPUT


STATIC = {
    "range over the limit": ("x {{ range(10**6) | list }}", 6),
    "center method": ("{{ 'x'.center(10**9) }}", 8),
    "center filter": ("{{ 'x' | center(1000000000) }}", 10),
    "repetition": ("{{ 'ab' * 10**8 }}", 9),
    "exponent": ("{{ 2 ** 100000 }}", 6),
    "nested loops": (
        "{% for i in range(9000) %}{% for j in range(9000) %}{% endfor %}{% endfor %}",
        4,
    ),
    "huge literal": ("{{ " + "9" * 100 + " }}", 4),
}


@pytest.mark.parametrize(("src", "col"), list(STATIC.values()), ids=list(STATIC))
def test_statically_visible_excess_is_vf310_at_its_column(src, col):
    diags = check_template(src, Scope({}), file="a.flow", line=3, col=1)
    assert [(d.code, d.line, d.col) for d in diags] == [("VF310", 3, col)]


def test_a_template_that_nests_too_deeply_is_vf310_not_a_crash():
    src = "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}"
    assert [d.code for d in check_template(src, Scope({}), file="a.flow")] == ["VF310"]


def test_loops_within_bounds_have_no_diagnostic():
    src = "{% for i in range(100) %}{% for j in range(100) %}{{ j }}{% endfor %}{% endfor %}"
    assert check_template(src, Scope({}), file="a.flow") == []
