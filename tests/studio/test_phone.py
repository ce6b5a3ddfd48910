"""The phone section describes each scripted callee of the simulated PBX in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.phone import describe_callee
from telephony.sim.scenarios import load_scenarios, parse_scenarios

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("callee", "described"),
    [
        (
            {"answer_after_rings": 2, "script": [{"say": "Hello?"}, {"dtmf": "1"}]},
            "answers after 2 rings, says “Hello?”, presses 1",
        ),
        ({"result": "busy"}, "is busy"),
        ({"result": "no_answer"}, "rings until the timeout, never answers"),
        (
            {"amd": "machine", "greeting": "Hi, leave a message."},
            "answers after 1 ring, voicemail box “Hi, leave a message.”",
        ),
        (
            {"script": [{"listen": True}, {"wait_ms": 1500}, {"opt_out": True}, {"hangup": True}]},
            "answers after 1 ring, listens, waits 1.5 s, says “Please stop calling me and put me on"
            " your do no…”, hangs up",
        ),
        ({}, "answers after 1 ring, stays silent"),
    ],
)
def test_callee_is_described_by_its_script(callee: dict, described: str) -> None:
    scenarios = parse_scenarios({"numbers": {"+12127260181": callee}})
    assert describe_callee(scenarios.numbers["+12127260181"]) == described


def test_every_demo_callee_has_a_description() -> None:
    scenarios = load_scenarios(REPO / "flows" / "demo" / "scenarios.yaml")
    described = {n: describe_callee(c) for n, c in scenarios.numbers.items()}
    assert described["+12125016613"] == "is busy"
    assert all(described.values())
