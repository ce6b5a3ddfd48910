"""Conversation tests: the example flows' tests pass and cover every node; failures explain."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.convtest import discover, render, run_file, run_paths

ROOT = Path(__file__).resolve().parents[3]
FLOWS = ROOT / "flows"
FLOW_FILES = sorted(
    p for p in FLOWS.iterdir() if p.name.endswith((".flow", ".flow.yaml")) and p.is_file()
)


@pytest.mark.parametrize("flow", FLOW_FILES, ids=lambda p: p.name)
async def test_every_example_flow_has_passing_tests_that_reach_all_its_nodes(flow: Path):
    (tests_path,) = discover([flow])
    assert tests_path.exists(), f"{flow.name} has no {tests_path.name}"
    result = await run_file(tests_path)
    assert result.error is None, result.error
    failing = [r.name for r in result.results if not r.passed]
    assert failing == [], render([result])
    assert result.coverage is not None
    assert result.coverage.missing_nodes == []


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "wrong.tests.yaml"
    path.write_text(f"flow: {FLOWS / 'reminder.flow'}\n" + body, encoding="utf-8")
    return path


async def test_wrong_expectation_fails_with_a_diff_naming_turn_expected_and_actual(tmp_path):
    path = _write(
        tmp_path,
        """
contact: {first_name: Olivia, phone: "+12127260181", appointment_at: "2026-11-25T10:30:00-05:00"}
tests:
  - name: expects the wrong node
    turns:
      - caller: "hmm let me think"
        expect: {node: greet}
      - caller: "yes I'll be there"
        expect: {node: cancelled, outcome: cancelled}
""",
    )
    (result,) = await run_paths([path])
    assert not result.passed
    (test,) = result.results
    assert [(f.turn, f.field, f.expected, f.actual) for f in test.failures] == [
        (2, "node", "cancelled", "confirmed"),
        (2, "outcome", "cancelled", "confirmed"),
    ]
    text = render([result])
    assert "FAIL  " in text and "expects the wrong node" in text
    assert 'turn 2 (caller: "yes I\'ll be there"): node' in text
    assert "- expected: 'cancelled'" in text
    assert "+ actual:   'confirmed'" in text


async def test_turn_after_the_call_ended_is_reported(tmp_path):
    path = _write(
        tmp_path,
        """
contact: {first_name: Olivia, phone: "+1212", appointment_at: "2026-11-25T10:30:00-05:00"}
tests:
  - name: talks after hang-up
    turns:
      - caller: "yes"
      - caller: "and another thing"
""",
    )
    (result,) = await run_paths([path])
    (f,) = result.results[0].failures
    assert (f.turn, f.field, f.actual) == (2, "call", "already ended")


async def test_invalid_tests_file_is_an_error_not_a_crash(tmp_path):
    path = _write(
        tmp_path, "tests:\n  - name: x\n    turns:\n      - caller: hi\n        dtmf: '1'\n"
    )
    (result,) = await run_paths([path])
    assert result.error is not None and "exactly one of" in result.error
    assert "ERROR" in render([result])


async def test_missing_flow_is_an_error(tmp_path):
    path = tmp_path / "ghost.tests.yaml"
    path.write_text("tests: []\n", encoding="utf-8")
    (result,) = await run_paths([path])
    assert result.error is not None and "no flow beside it" in result.error


def test_discover_finds_tests_files_in_folders_and_beside_flows():
    found = discover([FLOWS])
    assert FLOWS / "reminder.tests.yaml" in found
    assert discover([FLOWS / "reminder.flow"]) == [FLOWS / "reminder.tests.yaml"]
