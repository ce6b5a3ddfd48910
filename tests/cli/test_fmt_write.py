"""``voxflow fmt --write``: in place, atomic, only for a flow that compiles; comments kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from typer.testing import CliRunner

import runtime.cli.flow_commands  # noqa: F401 - registers the commands
from dsl import compile_file
from runtime.cli import app

runner = CliRunner()

MESSY = """\
# Reminder.
agent a
  # the prompt
  persona    "Hi"   # short
  start greet
  node greet
    say "Hello"
    on done   "Done" -> greet
"""
TIDY = """\
# Reminder.
agent a
  # the prompt
  persona "Hi"  # short
  start greet

  node greet
    say "Hello"
    on done "Done" -> greet
"""


def test_write_rewrites_in_place_keeping_comments_and_mode(tmp_path: Path):
    flow = tmp_path / "a.flow"
    flow.write_text(MESSY)
    flow.chmod(0o640)
    result = runner.invoke(app, ["fmt", "--write", str(flow)])
    assert result.exit_code == 0, result.output
    assert flow.read_text() == TIDY
    assert stat.S_IMODE(flow.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["a.flow"]  # no temporary file left behind
    assert runner.invoke(app, ["fmt", "--check", str(flow)]).exit_code == 0
    again = runner.invoke(app, ["fmt", "--write", str(flow)])
    assert again.exit_code == 0 and "already formatted" in again.output


def test_write_leaves_a_flow_that_does_not_compile_untouched(tmp_path: Path):
    broken = tmp_path / "b.flow"
    text = MESSY.replace("-> greet", "-> nowhere")
    broken.write_text(text)
    good = tmp_path / "c.flow"
    good.write_text(MESSY)
    result = runner.invoke(app, ["fmt", "--write", str(tmp_path)])
    assert result.exit_code == 1
    assert "VF" in result.output and "nowhere" in result.output
    assert broken.read_text() == text  # untouched
    assert good.read_text() == TIDY  # the other file of the folder is still formatted


def test_check_over_a_folder_exits_1_when_one_file_is_not_formatted(tmp_path: Path):
    (tmp_path / "a.flow").write_text(TIDY)
    assert runner.invoke(app, ["fmt", "--check", str(tmp_path)]).exit_code == 0
    (tmp_path / "b.flow").write_text(MESSY)
    result = runner.invoke(app, ["fmt", "--check", str(tmp_path)])
    assert result.exit_code == 1 and "b.flow: would be reformatted" in result.output
    assert (tmp_path / "b.flow").read_text() == MESSY


def test_write_refuses_a_conversion_and_printing_refuses_several_files(tmp_path: Path):
    flow = tmp_path / "a.flow"
    flow.write_text(MESSY)
    assert runner.invoke(app, ["fmt", "--write", "--to", "yaml", str(flow)]).exit_code == 2
    assert runner.invoke(app, ["fmt", "--write", "--check", str(flow)]).exit_code == 2
    (tmp_path / "b.flow").write_text(MESSY)
    assert runner.invoke(app, ["fmt", str(tmp_path)]).exit_code == 2
    assert flow.read_text() == MESSY


def test_converting_to_yaml_keeps_the_comments(tmp_path: Path):
    flow = tmp_path / "a.flow"
    flow.write_text(MESSY)
    result = runner.invoke(app, ["fmt", "--to", "yaml", str(flow)])
    assert result.exit_code == 0
    out = tmp_path / "a.flow.yaml"
    out.write_text(result.stdout)
    assert compile_file(out).unwrap().hash == compile_file(flow).unwrap().hash
    assert result.stdout.startswith("# Reminder.\nagent:\n")
    assert "  # the prompt\n  persona: Hi  # short\n" in result.stdout


def test_a_formatter_bug_leaves_the_file_unchanged_and_exits_1(tmp_path: Path, monkeypatch):
    from dsl.comments import FormatError

    def broken(result, to):
        raise FormatError(f"{result.file}: the formatted text does not compile to the same flow")

    monkeypatch.setattr(runtime.cli.flow_commands, "format_source", broken)
    flow = tmp_path / "a.flow"
    flow.write_text(MESSY)
    result = runner.invoke(app, ["fmt", "--write", str(flow)])
    assert result.exit_code == 1 and "left unchanged" in result.output
    assert flow.read_text() == MESSY
