"""Property tests: no template text crashes the checker or the renderer."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.diagnostics import Diagnostic
from dsl.templates import TemplateRenderError, check_template, render
from dsl.types import INT, STR, RecordType, Scope

SCOPE = Scope({"contact": RecordType((("first_name", STR), ("age", INT)))})
VALUES = {"contact": {"first_name": "Ann", "age": 30}}

PIECES = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    " ",
    "contact",
    ".",
    "first_name",
    "age",
    "x",
    "|",
    "day",
    "upper",
    "digits",
    "(",
    ")",
    "[",
    "]",
    "'",
    "0",
    "9",
    "+",
    "*",
    "if",
    "endif",
    "for",
    "in",
    "endfor",
    "set",
    "=",
    "__class__",
    "\n",
    "loop",
    "Hi ",
]
template_soup = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(deadline=None, max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(template_soup, st.text(max_size=40)))
def test_check_template_returns_diagnostics_and_never_raises(src):
    diags = check_template(src, SCOPE, file="a.flow", line=3, col=5)
    assert all(isinstance(d, Diagnostic) and d.line >= 3 for d in diags)
    assert {d.code for d in diags} <= {"VF120", "VF302", "VF303", "VF304"}


@settings(deadline=None, max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(template_soup, st.text(max_size=40)))
def test_render_raises_nothing_but_template_render_error(src):
    try:
        assert isinstance(render(src, VALUES), str)
    except TemplateRenderError:
        pass
