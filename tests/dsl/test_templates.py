from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dsl.templates import TemplateRenderError, check_template, render, template_env
from dsl.types import ANY, DATETIME, INT, STR, ListType, RecordType, Scope

SCOPE = Scope(
    {
        "contact": RecordType(
            (
                ("first_name", STR),
                ("appointment_at", DATETIME),
                ("address", RecordType((("city", STR), ("zip", STR)))),
                ("orders", ListType(ANY)),
            )
        ),
        "clinic.name": STR,
        "vars.tries": INT,
        "lookup": ANY,
    }
)


def diags(src: str, line: int = 4, col: int = 9):
    return [
        (d.code, d.line, d.col)
        for d in check_template(src, SCOPE, file="a.flow", line=line, col=col)
    ]


def test_a_template_using_only_known_names_has_no_diagnostics():
    src = (
        "Hi {{ contact.first_name }} from {{ clinic.name }}, "
        "{{ contact.address.city | upper }} {{ lookup.any.thing }} {{ vars.tries + 1 }}"
    )
    assert diags(src) == []


def test_undefined_top_level_name_is_vf302_at_its_column():
    assert diags("Hello {{ frist_name }}") == [("VF302", 4, 18)]


def test_undefined_nested_attribute_is_vf302_with_the_closest_name():
    (d,) = check_template("{{ contact.address.cty }}", SCOPE, file="a.flow", line=2, col=5)
    assert (d.code, d.line, d.col) == ("VF302", 2, 8)
    assert "contact.address.city" in d.hint


def test_undefined_middle_segment_is_reported_by_its_prefix():
    (d,) = check_template("{{ contact.adress.city }}", SCOPE, file="a.flow")
    assert d.code == "VF302" and "'contact.adress'" in d.message
    assert "contact.address" in d.hint


def test_subscript_with_a_constant_key_is_checked_like_an_attribute():
    assert diags("{{ contact['address']['cty'] }}") == [("VF302", 4, 12)]
    assert diags("{{ contact['first_name'] }}") == []


def test_every_undefined_name_is_reported_at_once_on_the_right_lines():
    src = "Hi {{ a }}\nand {{ contact.b }}\n  {% if c %}x{% endif %}"
    assert diags(src) == [("VF302", 4, 15), ("VF302", 5, 8), ("VF302", 6, 9)]


def test_set_and_loop_variables_are_known_inside_their_scope_only():
    src = (
        "{% set greeting = 'Hi ' + contact.first_name %}{{ greeting }}"
        "{% for o in contact.orders %}{{ o.total }} {{ loop.index }}{% endfor %}"
        "{{ o }}"
    )
    assert [code for code, _, _ in diags(src)] == ["VF302"]
    assert "'o'" in check_template(src, SCOPE, file="a.flow")[0].message


def test_macro_parameters_and_with_targets_are_known():
    src = (
        "{% macro greet(name) %}Hi {{ name }}{% endmacro %}{{ greet(contact.first_name) }}"
        "{% with c = contact.address %}{{ c.city }}{% endwith %}"
    )
    assert diags(src) == []


def test_methods_of_values_are_allowed_but_unknown_members_are_not():
    assert diags("{{ contact.first_name.upper() }}") == []
    assert diags("{{ contact.first_name.size }}") == [("VF302", 4, 12)]


def test_unknown_filter_is_vf304_with_a_hint():
    (d,) = check_template("{{ contact.appointment_at | dya }}", SCOPE, file="a.flow")
    assert (d.code, d.col) == ("VF304", 29)
    assert "day" in d.hint


def test_unknown_test_is_vf304():
    assert diags("{% if vars.tries is evne %}x{% endif %}") == [("VF304", 4, 29)]


def test_voice_filters_are_known_to_the_checker():
    src = (
        "{{ contact.appointment_at | day }} {{ contact.appointment_at | when }} {{ '1' | digits }}"
    )
    assert diags(src) == []


@pytest.mark.parametrize(
    ("src", "line", "col"),
    [
        ("Hi {{ contact.first_name ", 4, 12),
        ("ok\n  {% if %}", 5, 3),
        ("{% for x in %}{% endfor %}", 4, 9),
        ("{{ 1 +* 2 }}", 4, 9),
        ("{{ contact.first_name }} then {{ 1 +* 2 }}", 4, 39),
    ],
)
def test_syntax_error_is_vf120_at_the_tag_that_breaks(src, line, col):
    assert diags(src) == [("VF120", line, col)]


def test_include_is_refused_at_compile_time():
    assert [c for c, _, _ in diags("{% include 'other.txt' %}")] == ["VF120"]


# --- rendering -------------------------------------------------------------------------------

VALUES = {
    "contact": {
        "first_name": "Ann",
        "appointment_at": datetime(2026, 11, 24, 20, 0, tzinfo=ZoneInfo("UTC")),
    },
    "now": datetime(2026, 11, 23, 15, 0, tzinfo=ZoneInfo("UTC")),
}


def test_render_fills_values_and_applies_voice_filters_in_the_contact_zone():
    out = render(
        "Hi {{ contact.first_name }}, see you {{ contact.appointment_at | when }}.",
        VALUES,
        tz="America/New_York",
    )
    assert out == "Hi Ann, see you tomorrow at 3 PM."


def test_render_of_an_undefined_name_raises_template_render_error():
    with pytest.raises(TemplateRenderError, match="undefined"):
        render("{{ contact.last_name }}", VALUES)


@pytest.mark.parametrize(
    "src",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ contact.__class__ }}",
        "{{ render.__globals__ }}",
        "{{ contact.update({'x': 1}) }}",
        "{{ 'x' * 10000000 }}",
        "{{ 2 ** 100000 }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_sandbox_refuses_internals_mutation_and_huge_values(src):
    with pytest.raises(TemplateRenderError):
        render(src, {**VALUES, "render": render})


def test_render_reports_bad_filter_input_as_template_render_error():
    with pytest.raises(TemplateRenderError, match="money"):
        render("{{ contact.first_name | money }}", VALUES)


def test_render_reports_syntax_errors_as_template_render_error():
    with pytest.raises(TemplateRenderError, match="syntax"):
        render("{{ x ", VALUES)


def test_template_env_is_one_strict_sandbox_with_voice_filters():
    env = template_env()
    assert env is template_env()
    assert env.sandboxed and not env.autoescape
    assert {"day", "time", "when", "digits", "phone", "money", "duration"} <= set(env.filters)


@pytest.mark.parametrize(
    ("src", "col"),
    [("{{ ''.__class__ }}", 15), ("{{ contact.__class__.__mro__ }}", 30), ("{{ x._y }}", 14)],
)
def test_private_attribute_access_is_refused_at_compile_time(src, col):
    assert diags(src)[0] == ("VF302", 4, col)


@pytest.mark.parametrize(
    ("src", "col"),
    [("{{ vars.tries | day }}", 25), ("{{ contact.appointment_at | money }}", 37)],
)
def test_voice_filter_given_a_value_it_cannot_say_is_vf303(src, col):
    assert diags(src) == [("VF303", 4, col)]


def test_voice_filters_accept_text_values_parsed_when_rendered():
    assert diags("{{ contact.first_name | digits }} {{ lookup.at | when }}") == []


def test_plain_text_has_no_diagnostics():
    assert diags("Ask whether they can make it { or not }.") == []
