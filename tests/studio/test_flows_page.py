"""Flows page: the Ace editor shows the file with its syntax's highlighting, every diagnostic
with its position (in the list and as gutter annotations), saves to the file, draws the graph
of a valid flow and converts it to the other syntax; the plain text area still works as the
fallback.

AppTest cannot run the editor's JavaScript; it sets the component's value exactly as the
browser would (``{"id", "type", "text", ...}``), and reads what the page passed to it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dsl import compile_file, compile_source
from studio import flowfiles
from studio.flowfiles import EditorEvent
from tests.studio.conftest import PAGES, REPO


@pytest.fixture
def reminder(flows_dir: Path) -> Path:
    path = flows_dir / "reminder.flow"
    shutil.copy(REPO / "flows" / "reminder.flow", path)
    return path


@pytest.fixture
def plain_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(flowfiles.PLAIN_EDITOR_ENV, "1")


def _page() -> AppTest:
    return AppTest.from_file(str(PAGES / "flows.py"), default_timeout=30).run()


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _editor(at: AppTest) -> tuple[str, dict[str, Any]]:
    """The Ace component on the page: its widget key and the arguments the page gave it."""
    element = next(e for e in at.main if getattr(e, "key", None) and "::ace" in str(e.key))
    return str(element.key), json.loads(element.proto.json_args)


def _type(at: AppTest, text: str, kind: str = "change", event_id: str = "ev-1") -> AppTest:
    """What the browser sends when the designer edits: the component's new value."""
    key, _ = _editor(at)
    at.session_state[key] = {"id": event_id, "type": kind, "lang": "python", "text": text,
                             "selected": "", "cursor": {"row": 0, "column": 0}}  # fmt: skip
    return at.run()


def _broken(reminder: Path) -> tuple[str, list[tuple[int, str]]]:
    broken = reminder.read_text().replace("-> confirmed", "-> confirmd", 1)
    expected = compile_source(broken, file=str(reminder)).diagnostics
    return broken, [(d.line, d.code) for d in expected]


# ---- the Ace editor ---------------------------------------------------------------------


def test_flow_file_opens_in_the_ace_editor_with_its_mode_and_no_problems(reminder: Path) -> None:
    at = _page()

    assert not at.exception
    _, args = _editor(at)
    assert args["code"] == reminder.read_text()
    assert args["lang"] == "python"
    assert args["props"]["annotations"] == [] and args["props"]["markers"] == []
    assert not at.text_area
    assert [s.value for s in at.success] == ["No problems found."]
    assert len(at.get("graphviz_chart")) == 1


def test_yaml_flow_is_highlighted_as_yaml_and_completes_schema_keys(flows_dir: Path) -> None:
    shutil.copy(REPO / "flows" / "payment.flow.yaml", flows_dir / "payment.flow.yaml")

    _, args = _editor(_page())

    assert args["lang"] == "yaml"
    keywords = {c["value"] for c in args["completions"] if c["meta"] == "keyword"}
    assert {"agent", "nodes", "say", "campaign"} <= keywords


def test_editor_completes_grammar_keywords_and_the_flows_own_names(reminder: Path) -> None:
    _, args = _editor(_page())

    by_meta: dict[str, set[str]] = {}
    for c in args["completions"]:
        by_meta.setdefault(c["meta"], set()).add(c["value"])
    assert {"node", "say", "task", "on", "when", "campaign"} <= by_meta["keyword"]
    flow = compile_file(reminder).flow
    assert by_meta["node"] == {n.name for n in flow.agent.nodes}
    assert "contact.first_name" in by_meta["context"]
    assert set(flow.agent.outcomes) == by_meta["outcome"]


def test_typed_error_is_listed_and_annotated_on_its_line_and_save_writes_the_file(
    reminder: Path,
) -> None:
    broken, expected = _broken(reminder)
    at = _type(_page(), broken)

    rows = at.dataframe[0].value
    assert list(zip(rows["line"], rows["code"], strict=True)) == expected
    _, args = _editor(at)
    error = next(a for a in args["props"]["annotations"] if a["type"] == "error")
    line, code = next((line, code) for line, code in expected if code == "VF401")
    assert (error["row"], error["text"].split(":")[0]) == (line - 1, code)
    marker = next(m for m in args["props"]["markers"] if m["className"] == "vf-marker-error")
    row_text = broken.splitlines()[line - 1]
    assert row_text[marker["startCol"] : marker["endCol"]] == "confirmd"
    assert reminder.read_text() != broken  # typing alone does not write the file

    at = _type(at, broken, kind="submit", event_id="ev-2")  # the editor's Save (or Ctrl+Enter)

    assert not at.exception
    assert reminder.read_text() == broken
    # the last graph that compiled stays, the node holding the error drawn red
    [chart] = at.get("graphviz_chart")
    assert 'greet [label="greet\\n(has errors)"' in chart.proto.spec
    assert [w.value for w in at.warning] == [
        "The text has errors: this is the last graph that compiled; nodes with errors are"
        " red: greet."
    ]


def test_the_editor_saves_with_its_own_button_that_sends_the_text(reminder: Path) -> None:
    """Outside the editor a Save button could save before the last keystrokes arrive."""
    at = _page()
    _, args = _editor(at)

    assert [b["name"] for b in args["buttons"]] == ["Save"]
    assert "Save" not in [b.label for b in at.button]
    assert [b.label for b in at.button] == [
        "Create",
        "Duplicate",
        "Rename",
        "Delete",
        "Reload from file",
        "Write reminder.flow.yaml",
    ]


def test_reload_discards_edits_and_mounts_a_fresh_editor_on_the_file(reminder: Path) -> None:
    at = _type(_page(), "agent nonsense")
    old_key, _ = _editor(at)
    assert at.error  # the nonsense was compiled

    _button(at, "Reload from file").click().run()

    key, args = _editor(at)
    assert key != old_key
    assert args["code"] == reminder.read_text()
    assert [s.value for s in at.success] == ["No problems found."]


# ---- the plain text area fallback ----------------------------------------------------------


@pytest.mark.usefixtures("plain_editor")
def test_plain_editor_reports_line_and_code_and_save_writes_the_file(reminder: Path) -> None:
    broken, expected = _broken(reminder)
    at = _page()
    assert at.text_area[0].value == reminder.read_text()

    at.text_area[0].set_value(broken)
    _button(at, "Save").click().run()

    assert not at.exception
    rows = at.dataframe[0].value
    assert list(zip(rows["line"], rows["code"], strict=True)) == expected
    assert reminder.read_text() == broken


@pytest.mark.usefixtures("plain_editor")
def test_plain_editor_reload_discards_unsaved_edits(reminder: Path) -> None:
    at = _page()
    at.text_area[0].set_value("agent nonsense").run()

    _button(at, "Reload from file").click().run()

    assert at.text_area[0].value == reminder.read_text()


# ---- convert and empty folder -------------------------------------------------------------


def test_convert_writes_the_other_syntax_with_the_same_ir(reminder: Path) -> None:
    at = _page()

    _button(at, "Write reminder.flow.yaml").click().run()

    converted = reminder.with_name("reminder.flow.yaml")
    assert not at.exception
    assert compile_file(converted).flow.hash == compile_file(reminder).flow.hash
    comments = [x.strip() for x in reminder.read_text().splitlines() if x.strip().startswith("#")]
    written = converted.read_text()
    assert comments and all(c in written for c in comments)  # every comment comes along


def test_empty_folder_says_where_it_looked(flows_dir: Path) -> None:
    at = _page()

    assert not at.exception
    assert str(flows_dir.resolve()) in at.info[0].value


# ---- a Save is never lost ------------------------------------------------------------------


def test_a_save_is_written_even_when_the_next_event_cuts_its_run_short(
    reminder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser's next event (the keystroke's debounced change, a click elsewhere) makes
    Streamlit end the running script at its next element; the Save that run read is on disk."""
    import streamlit as st

    at = _page()
    key, _ = _editor(at)
    before = reminder.read_text()
    saved = before + "# saved\n"
    real_compile = flowfiles.compile_text

    def cut_short(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(flowfiles, "compile_text", real_compile)
        st.stop()  # where a rerun would end the run: the first thing after the event is read

    monkeypatch.setattr(flowfiles, "compile_text", cut_short)
    at.session_state[key] = {"id": "ev-1", "type": "submit", "text": saved}
    at.run()
    at.session_state[key] = {"id": "ev-2", "type": "change", "text": saved}
    at.run()

    assert not at.exception
    assert reminder.read_text() == saved
    # A later event is the editor's text, never a save: an older text stays off the disk.
    at.session_state[key] = {"id": "ev-3", "type": "change", "text": before}
    at.run()
    assert reminder.read_text() == saved


def test_save_and_ctrl_enter_send_the_text_after_the_pending_change(reminder: Path) -> None:
    _, args = _editor(_page())

    (button,) = args["buttons"]
    ((command, delayed),) = button["commands"]
    assert (command, delayed["command"]) == ("delayedExecute", "submit")
    assert delayed["timeout"] > flowfiles.CHANGE_DEBOUNCE_MS
    assert button["bindKey"] == {"win": "Ctrl-Enter", "mac": "Command-Enter"}
    # the component's own submit, which would send at once, has no key any more
    assert {"name": "submit", "bindkey": {"win": "", "mac": ""}} in args["keybindings"]["commands"]


def test_esc_is_left_to_the_editor_keyboard_accessibility(reminder: Path) -> None:
    _, args = _editor(_page())

    assert args["options"]["enableKeyboardAccessibility"] is True
    # the component's exitSession would take Esc before Ace's blurTextInput
    unbound = {"name": "exitSession", "bindkey": {"win": "", "mac": ""}}
    assert unbound in args["keybindings"]["commands"]


# ---- editor helpers -----------------------------------------------------------------------


def test_component_value_before_any_edit_is_no_event() -> None:
    default = {"id": "", "type": "", "lang": "", "text": "", "selected": "", "cursor": ""}

    assert EditorEvent.of(default) is None
    assert EditorEvent.of(None) is None
    assert EditorEvent.of({"id": "x", "type": "submit", "text": "t"}) == EditorEvent(
        "x", "submit", "t"
    )


def test_markers_stay_inside_the_source_and_underline_at_least_one_character() -> None:
    source = "agent a\n  start x\n"
    diagnostics = compile_source(source, file="a.flow").diagnostics

    for marker in flowfiles.markers(diagnostics, source):
        line = source.splitlines()[marker["startRow"]]
        assert 0 <= marker["startCol"] < marker["endCol"] or marker["endRow"] > marker["startRow"]
        assert marker["startCol"] <= len(line)
    assert flowfiles.markers(diagnostics, "") == []
