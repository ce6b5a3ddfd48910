"""Save as test: one test appended, every other line of the tests file untouched, and
expectations on node, tool call and outcome (exact lines only when asked)."""

from __future__ import annotations

import asyncio
import difflib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsl import load_flow
from runtime.convtest.runner import _local, run_file
from studio.chat import ChatState, TestExists, append_test
from tests.studio.conftest import REPO

CONTACT = {
    "id": "c001",
    "first_name": "Olivia",
    "phone": "+12127260181",
    "timezone": "America/New_York",
    "appointment_at": "2026-11-25T10:30:00-05:00",
}


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    for name in ("reminder.flow", "reminder.tests.yaml"):
        shutil.copy(REPO / "flows" / name, tmp_path / name)
    return tmp_path


def _chat(flow_dir: Path) -> ChatState:
    path = flow_dir / "reminder.flow"
    chat = ChatState.start(
        str(path),
        load_flow(path),
        provider=_local(),
        provider_name="local",
        contact=CONTACT,
        now=datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
    )
    chat.say("I can't make it, call me back later")
    return chat


def test_save_appends_one_test_and_leaves_every_other_line(flow_dir: Path) -> None:
    tests = flow_dir / "reminder.tests.yaml"
    before = tests.read_text()
    chat = _chat(flow_dir)

    count = append_test(tests, chat.as_test("caller wants a callback (studio)"))

    after = tests.read_text()
    assert after.startswith(before)  # nothing above changed, not even a comment
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm=""))
    assert not [ln for ln in diff if ln.startswith("-") and not ln.startswith("---")]
    added = [ln for ln in diff if ln.startswith("+") and not ln.startswith("+++")]
    assert 0 < len(added) < 25
    assert count == before.count("- name:") + 1
    result = asyncio.run(run_file(tests))
    assert result.passed, [r for r in result.results if not r.passed]
    chat.close()


def test_expectations_are_node_tool_and_outcome_unless_exact_lines_are_asked(
    flow_dir: Path,
) -> None:
    chat = _chat(flow_dir)
    turn = chat.as_test("t").turns[0].expect
    assert (turn.node, turn.tool.name, turn.outcome) == (
        "reschedule",
        "schedule_callback",
        "rescheduled",
    )
    assert turn.says_contains is None
    exact = chat.as_test("t", exact_lines=True).turns[0].expect
    assert exact.says_contains and "call you back" in exact.says_contains
    chat.close()


def test_a_second_test_of_the_same_name_is_refused_not_rewritten(flow_dir: Path) -> None:
    tests = flow_dir / "reminder.tests.yaml"
    chat = _chat(flow_dir)
    append_test(tests, chat.as_test("mine"))
    saved = tests.read_text()
    with pytest.raises(TestExists):
        append_test(tests, chat.as_test("mine"))
    assert tests.read_text() == saved
    chat.close()


def test_a_new_file_gets_the_test(tmp_path: Path, flow_dir: Path) -> None:
    tests = flow_dir / "fresh.tests.yaml"
    chat = _chat(flow_dir)
    assert append_test(tests, chat.as_test("first")) == 1
    assert tests.read_text().startswith("tests:\n- name: first")
    chat.close()
