"""Flows page: the editor shows every diagnostic with its position, saves to the file, draws
the graph of a valid flow, and converts it to the other syntax."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dsl import compile_file
from tests.studio.conftest import PAGES, REPO


@pytest.fixture
def reminder(flows_dir: Path) -> Path:
    path = flows_dir / "reminder.flow"
    shutil.copy(REPO / "flows" / "reminder.flow", path)
    return path


def _page() -> AppTest:
    return AppTest.from_file(str(PAGES / "flows.py"), default_timeout=30).run()


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_valid_flow_shows_no_problems_and_its_graph(reminder: Path) -> None:
    at = _page()

    assert not at.exception
    assert at.text_area[0].value == reminder.read_text()
    assert [s.value for s in at.success] == ["No problems found."]
    assert len(at.get("graphviz_chart")) == 1


def test_unknown_target_is_reported_with_line_and_code_and_save_writes_the_file(
    reminder: Path,
) -> None:
    source = reminder.read_text()
    broken = source.replace("-> confirmed", "-> confirmd", 1)
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "-> confirmd" in text)
    expected = [(d.line, d.code) for d in compile_file_text(reminder.with_name("x.flow"), broken)]
    at = _page()

    at.text_area[0].set_value(broken)
    _button(at, "Save").click().run()

    assert not at.exception
    rows = at.dataframe[0].value
    assert list(zip(rows["line"], rows["code"], strict=True)) == expected
    assert line in list(rows["line"])
    assert reminder.read_text() == broken
    assert not at.get("graphviz_chart")


def test_reload_discards_unsaved_edits(reminder: Path) -> None:
    at = _page()
    at.text_area[0].set_value("agent nonsense").run()

    _button(at, "Reload from file").click().run()

    assert at.text_area[0].value == reminder.read_text()


def test_convert_writes_the_other_syntax_with_the_same_ir(reminder: Path) -> None:
    at = _page()

    _button(at, "Write reminder.flow.yaml").click().run()

    converted = reminder.with_name("reminder.flow.yaml")
    assert not at.exception
    assert compile_file(converted).flow.hash == compile_file(reminder).flow.hash


def test_empty_folder_says_where_it_looked(flows_dir: Path) -> None:
    at = _page()

    assert not at.exception
    assert str(flows_dir.resolve()) in at.info[0].value


def compile_file_text(path: Path, text: str):
    path.write_text(text)
    return compile_file(path).diagnostics
