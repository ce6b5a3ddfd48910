"""A full call over loopback through the Ultravox adapter and the protocol stand-in.

simulated PBX → AudioSocket → bridge → Ultravox adapter (REST create call, serverWebSocket
joinUrl) → Ultravox stand-in. Not a test against the live service.
"""

from __future__ import annotations

import json

from runtime.providers.ultravox import UltravoxProvider
from telephony.audio.simspeech import utterance_ms
from tests.call.conftest import reminder, run_call
from tests.standins.ultravox import UltravoxCall, UltravoxStandin


async def agent(call: UltravoxCall) -> None:
    call.items = {"heard": await call.caller_turn()}  # the greeting is a forced message
    call.speech_pad_ms = 0
    call.items["result"] = await call.invoke("reschedule", {})


async def test_full_ultravox_call_stage_change_tool_barge_in_and_outcome(tmp_path) -> None:
    callee_script = [{"say": "I can't make it"}, {"wait_ms": 20000}, {"hangup": True}]
    async with UltravoxStandin(agent, speech_pad_ms=3000, pace=0.05) as standin:

        def factory(name: str) -> UltravoxProvider:
            return UltravoxProvider(api_key="uv-standin", base_url=standin.base_url)

        call = await run_call(reminder(), callee_script, tmp_path, ["ultravox"], factory)
        uv = next(iter(standin.calls.values()))
    assert not standin.errors
    result = call.result
    assert result.outcome == "rescheduled" and result.node_path == ["greet", "reschedule"]
    assert result.providers == ["ultravox"]
    # call creation: serverWebSocket at the line rate, the start node as the first stage
    body = standin.created[0]
    assert body["medium"]["serverWebSocket"]["inputSampleRate"] == 8000
    assert body["medium"]["serverWebSocket"]["outputSampleRate"] == 8000
    assert body["firstSpeakerSettings"] == {"user": {}}
    names = {t["temporaryTool"]["modelToolName"] for t in body["selectedTools"]}
    assert {"confirms", "reschedule", "cancel", "opt_out", "wrong_person"} <= names
    assert all("client" in t["temporaryTool"] for t in body["selectedTools"])
    # say lines are forced agent messages, spoken verbatim
    forced = [m["content"] for m in uv.of_type("forced_agent_message")]
    assert forced[0].startswith("Hi Ann, this is Ava") and len(forced) == 2
    # barge-in: the stand-in asked for a playout flush; the bridge dropped the unplayed audio
    assert uv.cleared == 1 and len(result.interruptions) == 1
    assert (
        utterance_ms(forced[0]) - 40
        <= result.interruptions[0].played_ms
        < utterance_ms(forced[0]) + 3000
    )
    # the transition: a client tool result starting the next stage
    tool_result = uv.items["result"]
    assert tool_result["responseType"] == "new-stage" and tool_result["agentReaction"] == "listens"
    assert json.loads(tool_result["result"])["systemPrompt"] == uv.stages[-1]["systemPrompt"]
    assert uv.stages[-1]["systemPrompt"] != uv.stages[0]["systemPrompt"]
    # the reschedule node's tool call, the goodbye heard by the callee, hang-up from our side
    assert [t["name"] for t in result.tool_calls] == ["schedule_callback"] and result.callback_at
    assert (
        "No problem. Someone from the clinic will call you back to find a new time."
        in call.callee.heard
    )
    assert uv.items["heard"] == "I can't make it"
    assert uv.of_type("hang_up") and uv.end_reason == "hangup"
    assert result.usage["ultravox"]["audio_in_ms"] > 0
