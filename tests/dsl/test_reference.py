"""The language reference is complete and up to date, and every diagnostic code is explained."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsl import reference_entries as R
from dsl.codes import CODES, explain
from dsl.expr import parse_expr
from dsl.reference import missing, render

ROOT = Path(__file__).resolve().parents[2]


def test_every_keyword_field_event_function_filter_outcome_and_rule_has_an_entry():
    assert missing() == []


def test_docs_language_md_is_the_generated_reference():
    page = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    assert page == render(), "run: python -m dsl.reference > docs/language.md"


def _codes_used() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "dsl").rglob("*.py"):
        if path.name != "codes.py":
            found |= set(re.findall(r'"(VF\d{3})"', path.read_text(encoding="utf-8")))
    return found


def test_every_code_the_compiler_reports_is_explained_and_every_explanation_is_used():
    assert _codes_used() == set(CODES)


@pytest.mark.parametrize("entry", R.FUNCTIONS, ids=lambda e: e.names[0])
def test_function_examples_are_expressions(entry):
    parse_expr(entry.example)


def test_voxflow_explain_prints_the_explanation():
    from runtime.cli import COMMAND_MODULES, app

    for name in COMMAND_MODULES:
        __import__(name)
    result = CliRunner().invoke(app, ["explain", "VF401"])
    assert result.exit_code == 0
    assert result.output == explain("VF401")
    assert result.output.startswith("VF401: unknown target node")
    unknown = CliRunner().invoke(app, ["explain", "VF999"])
    assert unknown.exit_code == 1
