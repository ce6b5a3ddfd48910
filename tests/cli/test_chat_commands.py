"""``voxflow chat`` and ``voxflow test`` through the real typer app."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import runtime.cli.chat_commands  # noqa: F401 - registers the commands
from runtime.cli import app

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "flows" / "reminder.flow"
CONTACT = [
    "--contact",
    "first_name=Olivia",
    "--contact",
    "phone=+12127260181",
    "--contact",
    "appointment_at=2026-11-25T10:30:00-05:00",
    "--now",
    "2026-11-23T15:00:00+00:00",
]


def test_chat_shows_nodes_speech_tools_and_outcome():
    result = CliRunner().invoke(
        app, ["chat", str(FLOW), *CONTACT, "--explain"], input="please stop calling me\n"
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "[node] greet" in out
    assert "agent: Hi Olivia" in out
    assert "[why] scores: opt_out=" in out
    assert "[node] opted_out" in out
    assert "[tool] opt_out(" in out
    assert "[tool result] ok" in out
    assert "[end] outcome=opted_out" in out
    assert "call over: outcome=opted_out path=greet > opted_out" in out


def test_chat_accepts_keys_and_silence_commands():
    result = CliRunner().invoke(
        app, ["chat", str(FLOW), *CONTACT], input="/silence 7s\n/dtmf 5\n/quit\n"
    )
    assert result.exit_code == 0, result.output
    assert "agent: Are you still there?" in result.output
    assert "agent: Sorry, can you make it" in result.output


def test_chat_rejects_a_malformed_contact_pair():
    result = CliRunner().invoke(app, ["chat", str(FLOW), "--contact", "no-equals-sign"])
    assert result.exit_code == 2
    assert "key=value" in result.output


def test_chat_rejects_an_unknown_provider():
    result = CliRunner().invoke(app, ["chat", str(FLOW), "--provider", "telepathy"])
    assert result.exit_code == 2
    assert "unknown provider" in result.output


def test_voxflow_test_passes_on_the_example_flows_and_prints_coverage():
    result = CliRunner().invoke(app, ["test", str(ROOT / "flows")])
    assert result.exit_code == 0, result.output
    assert "PASS  " in result.output
    assert "coverage " in result.output and "nodes " in result.output


def test_voxflow_test_exits_1_on_a_failing_expectation(tmp_path):
    tests = tmp_path / "bad.tests.yaml"
    tests.write_text(
        f"flow: {FLOW}\n"
        "contact: {first_name: Olivia, phone: '+1212', appointment_at: '2026-11-25T10:30:00-05:00'}\n"
        "tests:\n  - name: wrong\n    turns:\n      - caller: 'yes'\n        expect: {node: greet}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["test", str(tests)])
    assert result.exit_code == 1
    assert "FAIL  " in result.output and "turn 1 (caller: 'yes'): node" in result.output


def test_chat_refuses_a_contact_value_of_the_wrong_type_before_the_greeting():
    contact = [c.replace("2026-11-25T10:30:00-05:00", "next tuesday") for c in CONTACT]
    result = CliRunner().invoke(app, ["chat", str(FLOW), *contact], input="yes\n")
    assert result.exit_code == 2, result.output
    assert "error: contact.appointment_at: cannot read 'next tuesday' as datetime" in result.output
    assert "e.g. 2026-12-07T14:30" in result.output
    assert "agent:" not in result.output


def test_chat_names_a_missing_value_and_warns_of_a_name_the_flow_never_reads():
    result = CliRunner().invoke(
        app,
        ["chat", str(FLOW), "--contact", "frist_name=Olivia", "--contact", "phone=+12127260181"],
    )
    assert result.exit_code == 2, result.output
    assert "error: contact.first_name (str) is required by the flow" in result.output
    assert "warning: contact.frist_name is not in the flow's context" in result.output
