"""``voxflow chat --fixtures``: knowledge documents and canned tool results from a tests file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from runtime.cli import COMMAND_MODULES, app

for _name in COMMAND_MODULES:
    __import__(_name)

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def test_chat_answers_from_the_tests_files_knowledge_and_canned_results():
    result = CliRunner().invoke(
        app,
        [
            "chat",
            str(FLOWS / "receptionist.flow"),
            "--now",
            "2026-11-23T10:00:00+00:00",
            "--fixtures",
            str(FLOWS / "receptionist.tests.yaml"),
        ],
        input="is there parking at the clinic?\n/dtmf 1\nTuesday\nyes\n",
    )
    assert result.exit_code == 0, result.output
    assert "Parking is free behind the clinic." in result.output
    assert "reference is LC-1042" in result.output
    assert "outcome=booked" in result.output


def test_chat_refuses_a_fixtures_file_that_is_not_a_tests_file(tmp_path):
    bad = tmp_path / "x.tests.yaml"
    bad.write_text("tests: 3\n")
    result = CliRunner().invoke(
        app, ["chat", str(FLOWS / "receptionist.flow"), "--fixtures", str(bad)]
    )
    assert result.exit_code == 2
    assert "not a tests file" in result.output
