"""Test chat page: a caller turn moves the engine; the chat saved as a test passes `voxflow test`."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from runtime.convtest import run_file
from studio import state
from tests.studio.conftest import PAGES, REPO


@pytest.fixture
def reminder(flows_dir: Path) -> Path:
    for name in ("reminder.flow", "reminder.tests.yaml"):
        shutil.copy(REPO / "flows" / name, flows_dir / name)
    return flows_dir / "reminder.flow"


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _started() -> AppTest:
    at = AppTest.from_file(str(PAGES / "test_chat.py"), default_timeout=30).run()
    _button(at, "Start chat").click().run()
    return at


def test_start_speaks_the_greeting_of_the_start_node(reminder: Path) -> None:
    at = _started()

    assert not at.exception
    assert at.metric[0].value == "greet"
    greeting = at.chat_message[0].markdown[0].value
    assert greeting.startswith("Hi Olivia")


def test_caller_turn_shows_node_path_tool_call_and_outcome(reminder: Path) -> None:
    at = _started()

    at.chat_input[0].set_value("I can't make it on Wednesday").run()

    assert not at.exception
    chat = at.session_state[state.CHAT]
    assert chat.node_path == ["greet", "reschedule"]
    assert [m.value for m in at.metric] == ["reschedule", "rescheduled"]
    tools = at.dataframe[0].value
    assert list(tools["tool"]) == ["schedule_callback"]
    assert [m.markdown[0].value for m in at.chat_message][1] == "I can't make it on Wednesday"


def test_saved_chat_is_a_passing_conversation_test(reminder: Path) -> None:
    at = _started()
    at.chat_input[0].set_value("yes I'll be there").run()
    before = (reminder.with_name("reminder.tests.yaml")).read_text().count("- name:")

    at.text_input[-1].set_value("from the studio")
    _button(at, "Save as test").click().run()

    tests_file = reminder.with_name("reminder.tests.yaml")
    assert not at.exception
    assert tests_file.read_text().count("- name:") == before + 1
    result = asyncio.run(run_file(tests_file))
    assert result.passed, result.error
    studio_test = next(t for t in result.results if t.name == "from the studio")
    assert studio_test.path == ["greet", "confirmed"]


def test_flow_with_errors_is_refused_with_its_diagnostics(reminder: Path) -> None:
    reminder.write_text(reminder.read_text().replace("-> confirmed", "-> nowhere", 1))

    at = AppTest.from_file(str(PAGES / "test_chat.py"), default_timeout=30).run()

    assert not at.exception
    assert "error" in at.error[0].value
    assert not [b for b in at.button if b.label == "Start chat"]


def test_an_edited_contact_restarts_the_running_chat_with_it(reminder: Path) -> None:
    at = _started()
    assert at.chat_message[0].markdown[0].value.startswith("Hi Olivia")
    area = next(t for t in at.text_area if t.label.startswith("Contact"))

    area.set_value(area.value.replace("Olivia", "Noah")).run()

    assert not at.exception
    assert at.chat_message[0].markdown[0].value.startswith("Hi Noah")
    assert at.session_state[state.CHAT].contact["first_name"] == "Noah"
    assert any("started over" in i.value for i in at.info)


def test_a_contact_value_of_the_wrong_type_is_named_instead_of_an_empty_greeting(
    reminder: Path,
) -> None:
    at = AppTest.from_file(str(PAGES / "test_chat.py"), default_timeout=30).run()
    area = next(t for t in at.text_area if t.label.startswith("Contact"))
    area.set_value(area.value.replace("2026-11-25T10:30:00-05:00", "soon")).run()

    _button(at, "Start chat").click().run()

    assert not at.exception
    assert state.CHAT not in at.session_state
    [error] = at.error
    assert "contact.appointment_at: cannot read 'soon' as datetime" in error.value
    assert not at.chat_message
