"""The flow commands of the ``voxflow`` CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import runtime.cli.flow_commands  # noqa: F401 - registers the commands
from dsl import compile_file
from runtime.cli import app

FLOWS = Path(__file__).resolve().parents[2] / "flows"
runner = CliRunner()

BAD = """\
agent t
  persona "Hi"
  start a
  node a
    on yes "Agrees" -> nowhere
"""


def test_check_on_the_examples_exits_zero():
    result = runner.invoke(app, ["check", str(FLOWS)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_check_prints_compiler_style_lines_with_caret_and_hint(tmp_path: Path):
    path = tmp_path / "bad.flow"
    path.write_text(BAD)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    head = f"{path}:5:24: error VF401: unknown target node 'nowhere'"
    assert head in lines
    i = lines.index(head)
    assert lines[i + 1].endswith('on yes "Agrees" -> nowhere')
    assert lines[i + 2].index("^") == lines[i + 1].index("nowhere")
    assert lines[i + 3].startswith("  hint: ")


def test_check_json_lists_structured_diagnostics(tmp_path: Path):
    path = tmp_path / "bad.flow"
    path.write_text(BAD)
    result = runner.invoke(app, ["check", "--format", "json", str(path)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    diag = next(d for d in report[0]["diagnostics"] if d["code"] == "VF401")
    assert (diag["line"], diag["col"], diag["severity"]) == (5, 24, "error")
    assert report[0]["ok"] is False and report[0]["hash"] is None


def test_fmt_converts_to_yaml_with_the_same_ir(tmp_path: Path):
    result = runner.invoke(app, ["fmt", "--to", "yaml", str(FLOWS / "survey.flow")])
    assert result.exit_code == 0
    out = tmp_path / "survey.flow.yaml"
    out.write_text(result.output)
    assert compile_file(out).unwrap().hash == compile_file(FLOWS / "survey.flow").unwrap().hash


def test_fmt_check_passes_on_formatted_and_fails_on_unformatted(tmp_path: Path):
    assert runner.invoke(app, ["fmt", "--check", str(FLOWS / "reminder.flow")]).exit_code == 0
    messy = tmp_path / "messy.flow"
    messy.write_text(
        (FLOWS / "dtmf_menu.flow").read_text().replace("  start menu", "  start    menu")
    )
    assert runner.invoke(app, ["fmt", "--check", str(messy)]).exit_code == 1


def test_ir_prints_the_hash_and_the_ir():
    result = runner.invoke(app, ["ir", str(FLOWS / "reminder.flow")])
    assert result.exit_code == 0
    data = json.loads(result.output)
    flow = compile_file(FLOWS / "reminder.flow").unwrap()
    assert data["hash"] == flow.hash
    assert data["ir"]["agent"]["start"] == "greet"


@pytest.mark.parametrize("fmt", ["dot", "mermaid", "svg"])
def test_graph_prints_each_format(fmt):
    if fmt == "svg" and shutil.which("dot") is None:
        pytest.skip("Graphviz dot is installed by scripts/setup.sh")
    result = runner.invoke(app, ["graph", str(FLOWS / "reminder.flow"), "--format", fmt])
    assert result.exit_code == 0
    assert {"dot": "digraph", "mermaid": "flowchart LR", "svg": "<svg"}[fmt] in result.output


def test_schema_prints_json_schema():
    result = runner.invoke(app, ["schema"])
    assert json.loads(result.output)["$schema"].startswith("https://json-schema.org/")


def test_commands_that_need_an_ir_refuse_a_broken_flow(tmp_path: Path):
    path = tmp_path / "bad.flow"
    path.write_text(BAD)
    for args in (["ir", str(path)], ["graph", str(path)], ["fmt", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1


def test_check_without_flow_files_exits_one(tmp_path: Path):
    assert runner.invoke(app, ["check", str(tmp_path)]).exit_code == 1


@pytest.mark.parametrize(
    ("name", "source", "code"),
    [
        (
            "bomb.flow.yaml",
            "agent:\n  name: x\n  junk:\n    a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9)
            ),
            "VF104",
        ),
        (
            "deep.flow",
            'agent t\n  persona "{{ ' + "(" * 2000 + "1" + ")" * 2000 + ' }}"\n',
            "VF103",
        ),
    ],
)
def test_check_reports_hostile_sources_as_diagnostics_quickly(tmp_path, name, source, code):
    path = tmp_path / name
    path.write_text(source)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert f"error {code}:" in result.output
    assert "Traceback" not in result.output
