"""The repair constructs in the language: ``on clarify``, ``on chitchat``, ``on_change``, their
round trip through both syntaxes, what their wording may read, what a correction re-runs
(``dsl.dependencies``), and the rules VF409, VF416-VF418 (code, position, message, hint)."""

from __future__ import annotations

import jsonschema
import pytest

from dsl import compile_source
from dsl.dependencies import node_reads, slot_readers
from dsl.diagnostics import Severity
from dsl.format import to_flow
from dsl.format_yaml import to_data, to_yaml
from dsl.ir import ChitchatTransition, ClarifyTransition
from dsl.schema import flow_schema
from tests.dsl.test_rules import at

SRC = """\
agent t
  persona "p"
  on_change keep
  start ask

  global
    on clarify "Did you mean {{ clarify.first }}, or {{ clarify.second }}?"
    on chitchat off

  node ask
    collect day: date
      prompt "Which day?"
      on_change rerun
    on chitchat "{{ chitchat.answer }} Which day?"
    on clarify -> done
    on a "A" -> done
    on b "B" -> done
    when slots.day != null -> done

  node done
    call hold(day = slots.day)
    say "Held {{ slots.day }}."
    end

  tool hold http POST "https://example.test/hold"
    param day: date "the day"
"""


def compiled(src: str, file: str = "t.flow"):
    result = compile_source(src, file=file)
    assert result.ok, [d.headline() for d in result.diagnostics]
    return result.flow


def test_the_repair_constructs_compile_to_the_ir():
    flow = compiled(SRC)
    assert flow.agent.on_change == "keep"
    clarify, chitchat = flow.agent.global_transitions
    assert isinstance(clarify, ClarifyTransition) and clarify.say is not None
    assert isinstance(chitchat, ChitchatTransition) and chitchat.off
    ask = flow.node("ask")
    assert ask.collect[0].on_change == "rerun"
    assert ask.transitions[1] == ClarifyTransition(None, "done")


@pytest.mark.parametrize("writer", [to_flow, to_yaml])
def test_they_survive_the_round_trip_through_both_syntaxes(writer):
    flow = compiled(SRC)
    file = "t.flow" if writer is to_flow else "t.flow.yaml"
    assert compiled(writer(flow), file) == flow


def test_flows_without_them_keep_their_canonical_json_and_hash():
    flow = compiled(SRC.replace("  on_change keep\n", "").replace("      on_change rerun\n", ""))
    assert '"on_change"' not in flow.to_json()


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        # The handlers' own names are readable only in their wording.
        ("Held {{ slots.day }}.", "Held {{ clarify.first }}.", "clarify.first"),
        ('"{{ chitchat.answer }} Which day?"', '"{{ chitchat.anwser }}"', "chitchat.anwser"),
    ],
)
def test_the_wording_reads_its_own_names_and_nothing_else(old, new, needle):
    result = compile_source(SRC.replace(old, new), file="t.flow")
    found = [d for d in result.diagnostics if d.code == "VF302"]
    assert found and needle in found[0].message


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("on_change rerun", "on_change rerun_it", "rerun_it"),
        ("on clarify -> done", "on clarify off -> done", "off"),
    ],
)
def test_malformed_repair_settings_are_reported_where_written(old, new, needle):
    src = SRC.replace(old, new)
    result = compile_source(src, file="t.flow")
    found = [d for d in result.diagnostics if d.code == "VF202"]
    assert found, [d.headline() for d in result.diagnostics]
    assert (found[0].line, found[0].col) == at(src, new, new.index(needle))
    assert found[0].hint


def test_what_each_node_reads_is_what_a_correction_re_runs():
    flow = compiled(SRC)
    assert slot_readers(flow.agent) == {"ask": {"day"}, "done": {"day"}}
    assert node_reads(flow.node("done")) == {"day"}  # the call's argument and the say line


BASE = """\
agent t
  persona "p"
  start ask

  node ask
    collect day: date
      ONCHANGE
    on yes "The caller agrees" -> done
    ASK
    when slots.day != null -> done

  node done
    DONE
    end
"""


def case(onchange="", ask="", done='say "Bye."'):
    return BASE.replace("ONCHANGE", onchange).replace("ASK", ask).replace("DONE", done)


CASES = [
    # (id, code, severity, source, needle)
    (
        "intent named like an engine function",
        "VF409",
        Severity.ERROR,
        case(ask='on provide_slots "The caller gives values" -> done'),
        "provide_slots",
    ),
    (
        "rerun on a slot nobody reads",
        "VF416",
        Severity.WARNING,
        case(onchange="on_change rerun").replace("when slots.day != null", "when true"),
        "day: date",
    ),
    (
        "clarify with one intent open",
        "VF417",
        Severity.WARNING,
        case(ask='on clarify "Which one?"'),
        '"Which one?"',
    ),
    (
        "a re-run that overwrites the correction",
        "VF418",
        Severity.WARNING,
        case(done='set slots.day = today()\n    say "{{ slots.day }}"'),
        "done\n    set slots",
    ),
]


@pytest.mark.parametrize(
    ("code", "severity", "src", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_reports_code_position_message_and_hint(code, severity, src, needle):
    result = compile_source(src, file="t.flow")
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.headline() for d in result.diagnostics]
    d = found[0]
    assert (d.line, d.col, d.severity) == (*at(src, needle), severity)
    assert d.message and d.hint


@pytest.mark.parametrize(
    "src",
    [
        case(onchange="on_change rerun"),  # ask's when reads it
        case(ask='on no "The caller refuses" -> done\n    on clarify "Which one?"'),
        case(onchange="on_change keep", done='set slots.day = today()\n    say "{{ slots.day }}"'),
        case(ask="on clarify off"),  # off needs no choice to make
    ],
    ids=["read slot", "two intents", "keep", "off"],
)
def test_the_same_constructs_used_as_meant_get_no_repair_diagnostic(src):
    result = compile_source(src, file="t.flow")
    assert result.ok
    codes = {d.code for d in result.diagnostics}
    assert not codes & {"VF409", "VF416", "VF417", "VF418"}, codes


def test_in_yaml_an_empty_head_is_the_built_in_pattern_and_off_turns_it_off():
    src = """\
agent:
  name: t
  persona: p
  global:
    - clarify:
      to: done
    - chitchat: off
  nodes:
    ask:
      on:
        - {intent: a, description: A, to: done}
        - {intent: b, description: B, to: done}
    done:
      enter:
        - end: true
"""
    clarify, chitchat = compiled(src, "t.flow.yaml").agent.global_transitions
    assert clarify == ClarifyTransition(None, "done")
    assert chitchat == ChitchatTransition(None, None, off=True)


def test_the_json_schema_accepts_every_form_of_them():
    jsonschema.validate(to_data(compiled(SRC)), flow_schema())
