"""A full call over loopback through the OpenAI Realtime adapter and the protocol stand-in.

simulated PBX → AudioSocket → bridge (engine, tools) → OpenAI adapter (official SDK) →
Realtime stand-in. The stand-in plays the model: it speaks what it is asked to say as
simulated speech, "transcribes" the callee by decoding its simulated speech, and takes the
``reschedule`` transition by a function call. Not a test against the live service.
"""

from __future__ import annotations

import asyncio

import pytest

from runtime.providers.openai_realtime import OpenAIRealtimeProvider
from telephony.audio.simspeech import utterance_ms
from tests.call.conftest import reminder, run_call
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall

GREETING_MS = 4000


def said(create: dict) -> str:
    return create["response"]["instructions"].split("\n", 1)[1]


async def model(call: RealtimeCall) -> None:
    greet = await call.next_event("response.create", 0)
    call.items = {}
    turn = asyncio.create_task(call.caller_turn())  # server VAD listens while the model talks
    call.items["greet"] = await call.speak(said(greet), audio_ms=GREETING_MS, pace=0.08)
    call.items["heard"] = await turn
    call.items["call_id"] = await call.call_function("reschedule", {})
    await call.function_output(call.items["call_id"])
    nxt = await call.next_event("response.create", 1)
    call.items["bye"] = await call.speak(said(nxt))


@pytest.mark.parametrize("audio_format", ["pcmu", "pcm24k"])
async def test_full_openai_call_transition_tool_barge_in_and_outcome(
    tmp_path, audio_format
) -> None:
    callee_script = [
        {"say": "I can't make it"},  # as soon as the greeting's words were heard
        {"wait_ms": 20000},
        {"hangup": True},
    ]
    async with OpenAIRealtimeStandin(model) as standin:

        def factory(name: str) -> OpenAIRealtimeProvider:
            assert name == "openai"
            return OpenAIRealtimeProvider(
                api_key="sk-standin", base_url=standin.base_url, audio_format=audio_format
            )

        call = await run_call(reminder(), callee_script, tmp_path, ["openai"], factory)
        rt = standin.calls[0]
    assert not standin.errors
    result = call.result
    # outcome and path: greet --(function call "reschedule")--> reschedule --> end rescheduled
    assert result.outcome == "rescheduled" and result.ended_by == "agent"
    assert result.node_path == ["greet", "reschedule"]
    assert result.providers == ["openai"]
    # the transition answered as a function_call_output, after the node's session.update
    output = await rt.function_output(rt.items["call_id"])
    assert '"node": "reschedule"' in output["output"]
    node_updates = [u for u in rt.updates if "instructions" in u]
    assert len(node_updates) == 2  # greet, then reschedule
    assert (
        node_updates[0]["tools"]
        and node_updates[1]["instructions"] != node_updates[0]["instructions"]
    )
    expected = {"pcmu": {"type": "audio/pcmu"}, "pcm24k": {"type": "audio/pcm", "rate": 24000}}
    assert rt.updates[0]["audio"]["input"]["format"] == expected[audio_format]
    # the tool call of the reschedule node ran and its result reached the engine
    assert [t["name"] for t in result.tool_calls] == ["schedule_callback"]
    assert result.tool_calls[0]["ok"] and result.callback_at is not None
    # barge-in: response cancelled, item truncated at exactly the ms the bridge played
    assert rt.of_type("response.cancel")
    truncate = rt.of_type("conversation.item.truncate")[0]
    assert len(result.interruptions) == 1
    cut = result.interruptions[0]
    assert truncate["item_id"] == rt.items["greet"] == cut.item_id
    assert truncate["audio_end_ms"] == cut.played_ms
    # the callee spoke right after decoding the greeting's words, during the trailing audio
    words_ms = utterance_ms(result.transcript[1]["text"])
    # (the decoder completes a line one silent symbol + a frame before its audio ends)
    assert words_ms - 40 <= truncate["audio_end_ms"] < GREETING_MS
    assert [e for e in standin.sent if e["type"] == "error"] == []
    # what the callee heard after the transition, decoded from the agent audio
    assert (
        "No problem. Someone from the clinic will call you back to find a new time."
        in call.callee.heard
    )
    assert call.callee.said == ["I can't make it"]
    assert call.callee.ended_by == "agent"
    # usage and cost from response.done
    usage = result.usage["openai"]
    assert usage["responses"] == 3 and usage["output_tokens"] > 0 and usage["cost_usd"] > 0
    assert any(e["role"] == "caller" and e["text"] == "I can't make it" for e in result.transcript)
