"""One test per validation rule: the stable code, and the line and column it points at.

Each case is a small flow with one problem; the expected position is the first occurrence of
a needle in the source (plus an offset), so the tests read like the files they check.
"""

from __future__ import annotations

import pytest

from dsl import compile_source

BASE = """\
agent t
  persona "Hi"
  context contact(first_name: str, age: int)
  outcomes done
  start a

  node a
    say "Hello {{ contact.first_name }}"
    on yes "The caller agrees" -> b
      examples "yes"

  node b
    end done
"""

CAMPAIGN = """
campaign c
  contacts csv "c.csv"
  window mon-fri 09:00-18:00 local
  on done final
"""


def at(src: str, needle: str, offset: int = 0) -> tuple[int, int]:
    i = src.index(needle) + offset
    line = src.count("\n", 0, i) + 1
    col = i - (src.rfind("\n", 0, i) + 1) + 1
    return line, col


def codes_at(src: str, code: str, syntax: str = "flow") -> list[tuple[int, int]]:
    result = compile_source(src, file="t." + ("flow" if syntax == "flow" else "flow.yaml"))
    return [(d.line, d.col) for d in result.diagnostics if d.code == code]


def flow_case(old: str, new: str, campaign: str | None = None) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1) + (campaign or "")


CASES = [
    # (id, code, source, needle, offset)
    ("flow syntax", "VF101", flow_case('say "Hello', 'say Hello "x'), "Hello", 0),
    (
        "expression syntax",
        "VF110",
        flow_case("on yes", "when contact.age > > 1 -> b\n    on yes"),
        "> 1",
        0,
    ),
    (
        "invalid hours in window",
        "VF112",
        BASE + CAMPAIGN.replace("09:00-18:00", "09:00-18:99"),
        "09:00-18:99",
        0,
    ),
    (
        "template syntax",
        "VF120",
        flow_case("{{ contact.first_name }}", "{{ contact.first_name "),
        "{{",
        0,
    ),
    (
        "wrong type of value",
        "VF202",
        flow_case(
            'on yes "The caller agrees" -> b',
            'on dtmf "12a" -> b\n    on yes "The caller agrees" -> b',
        ),
        '"12a"',
        0,
    ),
    (
        "intent without description",
        "VF203",
        flow_case('on yes "The caller agrees" -> b', "on yes -> b"),
        "yes -> b",
        0,
    ),
    ("duplicate node", "VF210", BASE + "\n  node a\n    end done\n", "a\n    end done\n", 0),
    (
        "duplicate slot",
        "VF211",
        flow_case('say "Hello', 'collect x: int\n    collect x: str\n    say "Hello'),
        "x: str",
        0,
    ),
    (
        "undefined name in expression",
        "VF301",
        flow_case("on yes", "when contact.agee > 1 -> b\n    on yes"),
        "contact.agee",
        0,
    ),
    (
        "undefined name in template",
        "VF302",
        flow_case("contact.first_name }}", "contact.last_name }}"),
        "contact.last_name",
        0,
    ),
    (
        "condition type error",
        "VF303",
        flow_case("on yes", 'when contact.age == "old" -> b\n    on yes'),
        'contact.age == "old"',
        0,
    ),
    (
        "unknown function",
        "VF304",
        flow_case("on yes", "when nosuch(contact.age) -> b\n    on yes"),
        "nosuch",
        0,
    ),
    ("unknown type name", "VF305", flow_case("age: int", "age: integer"), "integer", 0),
    ("unknown target node", "VF401", flow_case("-> b", "-> nowhere"), "nowhere", 0),
    (
        "unknown tool",
        "VF402",
        flow_case("    end done", "    call no_such_tool\n    end done"),
        "no_such_tool",
        0,
    ),
    ("unreachable node", "VF403", BASE + "\n  node orphan\n    end done\n", "orphan", 0),
    ("dead-end node", "VF404", flow_case("    end done", '    say "bye"'), "node b", len("node ")),
    (
        "when false never fires",
        "VF405",
        flow_case("on yes", "when false -> b\n    on yes"),
        "false",
        0,
    ),
    ("unknown outcome", "VF406", flow_case("end done", "end finished"), "finished", 0),
    ("missing start node", "VF407", flow_case("start a", "start zz"), "zz", 0),
    (
        "outcome without campaign rule",
        "VF501",
        BASE + CAMPAIGN.replace("  on done final\n", ""),
        "outcomes done",
        len("outcomes "),
    ),
    (
        "empty calling window",
        "VF502",
        BASE + CAMPAIGN.replace("09:00-18:00", "18:00-09:00"),
        "18:00-09:00",
        0,
    ),
    (
        "invalid time zone",
        "VF503",
        flow_case("  start a", '  timezone "Mars/Olympus"\n  start a'),
        '"Mars/Olympus"',
        0,
    ),
    (
        "time zone naming a tz database directory",
        "VF503",
        flow_case("  start a", '  timezone "America"\n  start a'),
        '"America"',
        0,
    ),
    (
        "retry without cap",
        "VF504",
        BASE + CAMPAIGN.replace("on done final", "on done retry after 15m"),
        "15m",
        0,
    ),
    ("invalid caller id", "VF505", BASE + CAMPAIGN + '  caller_id "+1 000"\n', '"+1 000"', 0),
    (
        "invalid pacing",
        "VF506",
        BASE + CAMPAIGN + "  pacing concurrent 0\n",
        "concurrent 0",
        len("concurrent "),
    ),
]


@pytest.mark.parametrize(
    ("code", "src", "needle", "offset"),
    [pytest.param(c, s, n, o, id=f"{c} {i}") for i, c, s, n, o in CASES],
)
def test_rule_reports_its_code_at_the_offending_text(code, src, needle, offset):
    expected = at(src, needle, offset)
    found = codes_at(src, code)
    assert expected in found, f"{code} expected at {expected}, got {found}"


def test_the_base_flow_is_clean():
    result = compile_source(BASE + CAMPAIGN, file="t.flow")
    assert result.ok and result.diagnostics == ()


YAML_BASE = """\
agent:
  name: t
  persona: Hi
  start: a
  nodes:
    a:
      say: Hello
      enter:
        - end: completed
"""


def test_invalid_duration_is_vf111_at_the_value():
    src = YAML_BASE.replace(
        "      say: Hello", "      say: Hello\n      on:\n        - silence: 5q\n          to: a"
    )
    assert at(src, "5q") in codes_at(src, "VF111", syntax="yaml")


def test_yaml_syntax_error_is_vf102_at_the_bad_line():
    src = YAML_BASE + "  bad: [unclosed\n"
    found = codes_at(src, "VF102", syntax="yaml")
    assert found and found[0] == (10, 8)  # the [ that is not closed, not the end of the file


def test_unknown_yaml_key_is_vf201_at_the_key():
    src = YAML_BASE.replace("  persona: Hi", "  persnoa: Hi")
    assert at(src, "persnoa") in codes_at(src, "VF201", syntax="yaml")


def test_missing_required_yaml_key_is_vf203():
    src = YAML_BASE.replace("  persona: Hi\n", "")
    assert codes_at(src, "VF203", syntax="yaml") == [(2, 3)]


def test_wrong_type_in_yaml_is_vf202_at_the_value():
    src = YAML_BASE.replace("  start: a", "  start: [a, b]")
    assert at(src, "[a, b]") in codes_at(src, "VF202", syntax="yaml")


def test_shadowed_dtmf_transition_is_vf405():
    src = flow_case("on yes", 'on dtmf "1" -> b\n    on dtmf "1" -> a\n    on yes')
    second = src.index('on dtmf "1" -> a')
    assert at(src, 'on dtmf "1" -> a', len("on dtmf ")) == (src.count("\n", 0, second) + 1, 13)
    assert at(src, 'on dtmf "1" -> a', len("on dtmf ")) in codes_at(src, "VF405")


def test_duplicate_intent_in_node_and_globals_is_vf211():
    src = flow_case("  node a", '  global\n    on yes "Again" -> b\n\n  node a')
    assert at(src, 'yes "The caller') in codes_at(src, "VF211")


def test_every_problem_of_a_file_is_reported_at_once():
    src = flow_case("-> b", "-> nowhere").replace("end done", "end finished")
    codes = {d.code for d in compile_source(src, file="t.flow").diagnostics}
    assert {"VF401", "VF406"} <= codes


def test_warnings_alone_still_produce_the_ir():
    result = compile_source(BASE + "\n  node orphan\n    end done\n", file="t.flow")
    assert result.ok
    assert [d.code for d in result.diagnostics] == ["VF403"]


def test_unknown_phone_region_and_holiday_country_are_vf505():
    src = (
        BASE + CAMPAIGN.replace('csv "c.csv"', 'csv "c.csv"\n    region XX') + "  holidays US, QQ\n"
    )
    found = codes_at(src, "VF505")
    assert at(src, "XX") in found and at(src, "QQ") in found


def test_ramp_above_the_concurrency_cap_is_vf506():
    src = BASE + CAMPAIGN + "  pacing concurrent 2 ramp 5\n"
    assert at(src, "ramp 5", len("ramp ")) in codes_at(src, "VF506")


def test_env_secrets_are_readable_in_http_tools_but_not_in_spoken_text():
    tool = '  tool crm http GET "https://crm.example/{{ env.CRM_TOKEN }}"\n    description "CRM"\n'
    src = flow_case("  start a\n", "  start a\n" + tool)
    assert codes_at(src, "VF302") == []
    spoken = src.replace('say "Hello {{ contact.first_name }}"', 'say "{{ env.CRM_TOKEN }}"')
    assert at(spoken, 'env.CRM_TOKEN }}"\n    on') in codes_at(spoken, "VF302")


def test_an_unreadable_file_is_a_diagnostic_not_an_exception(tmp_path):
    from dsl import compile_file

    result = compile_file(tmp_path / "missing.flow")
    assert not result.ok and result.diagnostics[0].code == "VF101"


def test_time_zone_naming_a_tz_database_directory_is_vf503_in_yaml():
    src = (
        "agent:\n  name: t\n  persona: Hi\n  timezone: America\n  nodes:\n    a:\n      end: true\n"
    )
    assert codes_at(src, "VF503", syntax="yaml") == [at(src, "America")]


def test_templates_differing_only_in_text_each_report_their_own_problem():
    src = flow_case(
        'say "Hello {{ contact.first_name }}"',
        'say "Hello {{ contact.first_name }}"\n'
        '    say "Hi {{ contact.first_name }}"\n'
        '    say "Hello {{ contact.nme }}"\n'
        '    say "Bye {{ contact.nme }}"',
    )
    assert codes_at(src, "VF302") == [
        at(src, "Hello {{ contact.nme", len("Hello {{ ")),
        at(src, "Bye {{ contact.nme", len("Bye {{ ")),
    ]


@pytest.mark.parametrize("hours", ["09:00-24:30", "24:00-24:00", "09:00-25:00", "24:10-23:00"])
def test_window_hours_past_midnight_are_vf112(hours):
    src = BASE + CAMPAIGN.replace("09:00-18:00", hours)
    assert at(src, hours) in codes_at(src, "VF112")


def test_window_may_end_at_midnight_as_24_00():
    result = compile_source(BASE + CAMPAIGN.replace("09:00-18:00", "00:00-24:00"), file="t.flow")
    assert result.ok, result.diagnostics
    window = result.flow.campaign.windows[0]
    assert (window.start, window.end) == ("00:00", "24:00")
