"""The Ultravox adapter against the REST + serverWebSocket stand-in (not the live service)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

import pytest

from dsl.ir import ProviderSettings
from runtime.engine.events import ToolSpec, UpdateSession
from runtime.providers.base import (
    AgentAudio,
    AgentTranscript,
    CallSetup,
    FunctionCall,
    ProviderError,
    ProviderUnavailable,
)
from runtime.providers.ultravox import UltravoxProvider
from telephony.audio.frames import AudioFrame
from tests.standins.ultravox import UltravoxCall, UltravoxStandin

GREET = UpdateSession("Greet the caller.", (ToolSpec("confirms", "Confirms",
                      {"type": "object", "properties": {"day": {"type": "string"}}, "required": ["day"]}),))  # fmt: skip


WAIT_S = 15
"""Longest a test waits for the adapter (a lost event fails the test instead of hanging)."""


def provider(uv: UltravoxStandin, key: str = "uv-standin") -> UltravoxProvider:
    return UltravoxProvider(api_key=key, base_url=uv.base_url)


async def test_create_call_body_follows_the_start_call_request_schema() -> None:
    async with UltravoxStandin() as uv:
        p = provider(uv)
        await p.start(
            CallSetup("c1", ProviderSettings(voice="Mark", silence_duration_ms=800), GREET)
        )
        await p.hangup()
    body = uv.created[0]
    assert body["systemPrompt"] == "Greet the caller." and body["voice"] == "Mark"
    assert body["vadSettings"] == {"turnEndpointDelay": "0.8s"}
    assert body["metadata"] == {"voxflow_call_id": "c1"}
    tool = body["selectedTools"][0]["temporaryTool"]
    assert tool["modelToolName"] == "confirms" and tool["client"] == {}
    assert tool["dynamicParameters"] == [{"name": "day", "location": "PARAMETER_LOCATION_BODY",
                                          "schema": {"type": "string"}, "required": True}]  # fmt: skip
    sip = p.sip_call_body(CallSetup("c1", first=GREET))
    assert sip["medium"] == {"sip": {"incoming": {}}} and sip["systemPrompt"] == "Greet the caller."


async def test_tool_invocation_result_and_forced_message_round_trip() -> None:
    async def agent(call: UltravoxCall) -> None:
        call.items = await call.invoke("confirms", {"day": "Tuesday"})

    async with UltravoxStandin(agent) as uv:
        p = provider(uv)
        await p.start(CallSetup("c1", first=GREET))
        await p.send_audio(AudioFrame(bytes(320), 8000))
        events = p.events()
        call = await anext(e async for e in events if isinstance(e, FunctionCall))
        assert call.name == "confirms" and call.arguments == {"day": "Tuesday"}
        await p.function_result(call.call_id, {"ok": True}, update=UpdateSession("Next.", ()))
        await p.say("Great.")
        transcript = await anext(e async for e in events if isinstance(e, AgentTranscript))
        assert transcript.text == "Great." and transcript.verbatim
        uvcall = next(iter(uv.calls.values()))
        await p.hangup()
    assert (
        uvcall.items["responseType"] == "new-stage" and uvcall.items["agentReaction"] == "listens"
    )
    assert json.loads(uvcall.items["result"]) == {"systemPrompt": "Next.", "selectedTools": []}
    kinds = [m["type"] for m in uvcall.received]
    assert kinds.index("client_tool_result") < kinds.index("forced_agent_message")
    assert uvcall.input_ms == 20 and kinds[-1] == "hang_up"


async def test_refused_or_failing_call_creation_is_provider_unavailable() -> None:
    async with UltravoxStandin() as uv:
        with pytest.raises(ProviderUnavailable, match="403"):
            await provider(uv, "wrong").start(CallSetup("c1"))
        uv.fail_creates = 1
        with pytest.raises(ProviderUnavailable, match="503"):
            await provider(uv).start(CallSetup("c1"))


async def test_dropped_websocket_is_a_fatal_provider_error() -> None:
    async def agent(call: UltravoxCall) -> None:
        await call.speak("hello")
        await call.drop()

    async with UltravoxStandin(agent) as uv:
        p = provider(uv)
        await p.start(CallSetup("c1", first=GREET))
        events = [e async for e in p.events()]
    assert any(isinstance(e, AgentAudio) for e in events)
    assert isinstance(events[-1], ProviderError) and events[-1].fatal


async def test_node_entered_without_a_tool_call_is_sent_as_context_only_text() -> None:
    async with UltravoxStandin() as uv:
        p = provider(uv)
        await p.start(CallSetup("c1", first=GREET))
        await p.update_session(UpdateSession("Ask for the new date.", ()))
        call = next(iter(uv.calls.values()))
        message = await call.next_message("user_text_message")
        await p.hangup()
    assert message["urgency"] == "later" and message["text"].endswith("\nAsk for the new date.")
    assert len(call.stages) == 1  # a stage only changes through a tool result


async def test_agent_transcript_deltas_are_added_up_into_the_whole_line() -> None:
    async def agent(call: UltravoxCall) -> None:
        await call.speak("Great, see you on Tuesday.")

    async with UltravoxStandin(agent) as uv:
        p = provider(uv)
        await p.start(CallSetup("c1", first=GREET))
        async with asyncio.timeout(WAIT_S):
            line = await anext(e async for e in p.events() if isinstance(e, AgentTranscript))
        await p.hangup()
    assert line.text == "Great, see you on Tuesday." and not line.verbatim


async def test_respond_without_a_held_tool_result_makes_the_agent_take_a_turn() -> None:
    async with UltravoxStandin() as uv:
        p = provider(uv)
        await p.start(CallSetup("c1", first=GREET))
        await p.respond()  # e.g. a task node without a say, or the first turn after fail-over
        async with asyncio.timeout(WAIT_S):
            line = await anext(e async for e in p.events() if isinstance(e, AgentTranscript))
        call = next(iter(uv.calls.values()))
        await p.hangup()
    assert line.text == call.reply
    assert call.of_type("user_text_message")[0]["urgency"] == "immediate"


async def test_a_farewell_is_spoken_before_the_socket_closes() -> None:
    async with UltravoxStandin() as uv:
        p = provider(uv)
        await p.start(CallSetup("c1", first=GREET))
        events = [e async for e in _during(p, p.hangup("Thank you, goodbye."))]
        call = next(iter(uv.calls.values()))
    assert any(isinstance(e, AgentAudio) for e in events)
    assert AgentTranscript("Thank you, goodbye.", "agent-1") in events
    assert call.of_type("hang_up") == [{"type": "hang_up", "message": "Thank you, goodbye."}]
    assert call.end_reason == "hangup" and call.spoken == ["Thank you, goodbye."]


async def _during(p: UltravoxProvider, action: Coroutine[Any, Any, None]):
    """The provider's events while ``action`` runs, until the stream ends."""
    task = asyncio.create_task(action)
    async with asyncio.timeout(WAIT_S):
        async for event in p.events():
            yield event
    await task


async def test_ultravox_gets_its_own_voice_and_never_an_openai_voice_name() -> None:
    async with UltravoxStandin() as uv:
        for settings in (
            ProviderSettings(voice="alloy"),
            ProviderSettings(voices=(("openai", "alloy"), ("ultravox", "Mark"))),
        ):
            p = provider(uv)
            await p.start(CallSetup("c1", settings, GREET))
            await p.hangup()
    assert "voice" not in uv.created[0] and uv.created[1]["voice"] == "Mark"


async def test_a_nodes_own_turn_detection_is_not_sent_and_is_logged_once(caplog) -> None:
    """Ultravox's VAD is per call: the stage change carries no vadSettings (VF207 warns at
    compile time) and the adapter says so once in the log."""
    from dsl.ir import TurnDetection

    settings = ProviderSettings(silence_duration_ms=600)
    slow = UpdateSession(
        "Ask for the card number.", (), TurnDetection("server_vad", None, None, 2000)
    )

    async def agent(call: UltravoxCall) -> None:
        call.items = await call.invoke("confirms", {"day": "Tuesday"})

    caplog.set_level("INFO", logger="runtime.providers.ultravox.adapter")
    async with UltravoxStandin(agent) as uv:
        p = provider(uv)
        await p.start(CallSetup("c1", settings, GREET))
        events = p.events()
        call = await anext(e async for e in events if isinstance(e, FunctionCall))
        await p.function_result(call.call_id, {"ok": True}, update=slow)
        await p.update_session(slow)
        await p.flush()
        await p.hangup()
    assert uv.created[0]["vadSettings"] == {"turnEndpointDelay": "0.6s"}
    (uv_call,) = uv.calls.values()
    results = [m for m in uv_call.received if m.get("type") == "client_tool_result"]
    assert results and "vadSettings" not in json.loads(results[0]["result"])
    notes = [r for r in caplog.records if "turn detection is not applied" in r.getMessage()]
    assert len(notes) == 1


async def test_call_starts_load_the_ca_bundle_at_most_once_per_process(monkeypatch) -> None:
    """Creating the call over HTTPS and joining over WSS reuse one TLS context each: loading a
    CA bundle costs about 25 ms of CPU, too much to pay per call."""
    import ssl

    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: object, **kw: object) -> None:
        loads.append(args or kw)
        load(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    async with UltravoxStandin() as uv:
        for i in range(3):
            p = provider(uv)
            await p.start(CallSetup(f"c{i}", first=GREET))
            await p.hangup()
    assert len(loads) <= 1
