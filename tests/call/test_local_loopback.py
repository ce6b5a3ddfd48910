"""Loopback calls with the local voice provider: DTMF and transfer through the bridge, and the
local provider understanding decoded speech. Fully offline."""

from __future__ import annotations

from pathlib import Path

from dsl.compiler import load_flow
from tests.call.conftest import ROOT, reminder, run_call


async def test_dtmf_key_routes_the_call_and_the_transfer_is_carried_out(tmp_path: Path) -> None:
    flow = load_flow(ROOT / "flows" / "dtmf_menu.flow")
    transfers: list[str] = []
    script = [{"listen": True}, {"dtmf": "2"}, {"wait_ms": 20000}, {"hangup": True}]
    call = await run_call(flow, script, tmp_path, ["local"], contact={}, transfers=transfers)
    result = call.result
    assert result.node_path == ["menu", "billing"]
    assert result.outcome == "routed_to_billing"
    assert transfers == ["sip:billing@pbx.harbor-dental.example"] == [result.transfer_to]
    assert "Transferring you to billing." in call.callee.heard
    assert call.callee.ended_by == "agent"


async def test_the_transfer_waits_until_the_agents_last_line_has_played(tmp_path: Path) -> None:
    flow = load_flow(ROOT / "flows" / "dtmf_menu.flow")
    heard: list[list[str]] = []
    script = [{"listen": True}, {"dtmf": "2"}, {"wait_ms": 20000}, {"hangup": True}]
    await run_call(flow, script, tmp_path, ["local"], contact={}, heard_at_transfer=heard)
    assert len(heard) == 1 and heard[0][-1] == "Transferring you to billing."


async def test_local_voice_call_understands_decoded_speech_and_barges_in(tmp_path: Path) -> None:
    script = [{"wait_ms": 300}, {"say": "I can't make it", "wait_for_agent": False},
              {"wait_ms": 20000}, {"hangup": True}]  # fmt: skip
    call = await run_call(reminder(), script, tmp_path, ["local"])
    result = call.result
    assert result.outcome == "rescheduled" and result.providers == ["local"]
    assert len(result.interruptions) == 1 and 0 < result.interruptions[0].played_ms < 1500
    goodbye = "No problem. Someone from the clinic will call you back to find a new time."
    entry = {"role": "agent", "text": goodbye, "node": "reschedule", "data": {"verbatim": True}}
    assert entry in result.transcript
    assert call.callee.said == ["I can't make it"] and call.callee.ended_by == "agent"


async def test_silence_after_the_agent_spoke_triggers_the_nodes_reprompt(tmp_path: Path) -> None:
    # greet: "on silence 6s reprompt 'Are you still there?'" -- the callee listens and says nothing
    script = [{"listen": True}, {"listen": True}, {"hangup": True}]
    call = await run_call(reminder(), script, tmp_path, ["local"])
    assert call.callee.heard[1:] == ["Are you still there?"]
    assert call.result.outcome == "hung_up" and call.result.ended_by == "caller"
    assert call.result.node_path == ["greet"]
