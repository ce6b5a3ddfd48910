"""A node's own turn detection reaches the OpenAI Realtime session when the call enters it.

Engine (compiled flow) → OpenAI adapter (official SDK) → Realtime stand-in, which validates
every event against the SDK's GA models and merges ``session.update`` like the service.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from dsl import compile_source
from runtime.engine.events import DtmfPressed, TransitionCalled, UpdateSession
from runtime.providers.base import CallSetup
from runtime.providers.openai_realtime import OpenAIRealtimeProvider
from telephony.audio.frames import AudioFrame
from tests.engines import new_engine
from tests.standins.harness import tone
from tests.standins.openai_realtime import OpenAIRealtimeStandin

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)

FLOW = """\
agent cards
  persona "You are Ava from the bank."
  outcomes paid
  start greet
  provider
    silence 600ms

  node greet
    task "Ask whether they want to pay by card."
    on pay "The caller wants to pay by card" -> card

  node card
    task "Ask for the 16-digit card number."
    turn
      turn_detection semantic_vad
      eagerness low
    on dtmf "#" -> thanks

  node thanks
    say "Thank you."
    end paid
"""


def updates(commands) -> list[UpdateSession]:
    return [c for c in commands if isinstance(c, UpdateSession)]


async def test_entering_a_node_with_its_own_turn_detection_updates_the_session() -> None:
    flow = compile_source(FLOW, file="cards.flow").unwrap()
    engine = new_engine(flow, contact={}, call_id="c1", now=NOW)
    first = updates(engine.start())[0]
    async with OpenAIRealtimeStandin() as standin:
        p = OpenAIRealtimeProvider(api_key="sk-standin", base_url=standin.base_url)
        await p.start(CallSetup("c1", settings=flow.agent.provider, first=first))
        call = standin.calls[0]
        await call.next_event("session.update", 0)
        # the model takes "pay": the call moves to the card node (a function call)
        (card,) = updates(engine.handle(TransitionCalled("pay", {}, "call_1")))
        await p.update_session(card)
        await call.next_event("session.update", 1)
        # a DTMF key moves to "thanks", whose turn detection is the agent's again
        (thanks,) = updates(engine.handle(DtmfPressed("#")))
        await p.update_session(thanks)
        await call.next_event("session.update", 2)
        # a node with the same turn detection as the session sends none
        await p.update_session(thanks)
        await call.next_event("session.update", 3)
        vad = call.session["audio"]["input"]["turn_detection"]
        await p.hangup()
    assert not standin.invalid and not [e for e in standin.sent if e["type"] == "error"]
    server = {"type": "server_vad", "create_response": True, "interrupt_response": False,
              "silence_duration_ms": 600}  # fmt: skip
    semantic = {"type": "semantic_vad", "eagerness": "low", "create_response": True,
                "interrupt_response": False}  # fmt: skip
    sent = [u.get("audio", {}).get("input", {}).get("turn_detection") for u in call.updates]
    assert sent == [server, semantic, server, None]
    # only the turn detection changes: the formats, transcription and voice stay as set
    assert set(call.updates[1]["audio"]) == {"input"}
    assert set(call.updates[1]["audio"]["input"]) == {"turn_detection"}
    assert call.session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert call.session["audio"]["input"]["transcription"] is not None
    assert vad == {"type": "server_vad", "create_response": True, "interrupt_response": False,
                   "silence_duration_ms": 600}  # fmt: skip


async def test_a_start_node_with_its_own_turn_detection_opens_the_session_with_it() -> None:
    flow = compile_source(FLOW.replace("start greet", "start card"), file="cards.flow").unwrap()
    first = updates(new_engine(flow, contact={}, call_id="c1", now=NOW).start())[0]
    assert first.turn is not None and first.turn.eagerness == "low"
    async with OpenAIRealtimeStandin() as standin:
        p = OpenAIRealtimeProvider(api_key="sk-standin", base_url=standin.base_url)
        await p.start(CallSetup("c1", settings=flow.agent.provider, first=first))
        call = standin.calls[0]
        await call.next_event("session.update", 0)
        await p.update_session(first)
        await call.next_event("session.update", 1)
        await p.hangup()
    assert not standin.invalid
    assert call.updates[0]["audio"]["input"]["turn_detection"]["type"] == "semantic_vad"
    assert "audio" not in call.updates[1]  # unchanged: not sent again


async def test_the_stand_in_ends_the_callers_turn_after_the_nodes_own_pause() -> None:
    """Under server VAD the stand-in ends a turn after the session's ``silence_duration_ms``:
    a node asking for a long number gets its longer pause once its update is in."""
    flow = compile_source(
        FLOW.replace(
            "      turn_detection semantic_vad\n      eagerness low", "      silence 1500ms"
        ),
        file="cards.flow",
    ).unwrap()
    engine = new_engine(flow, contact={}, call_id="c1", now=NOW)
    first = updates(engine.start())[0]
    (card,) = updates(engine.handle(TransitionCalled("pay", {}, "call_1")))
    turns: list[str] = []

    async def model(call) -> None:
        await call.next_event("session.update", 1)
        turns.append(await call.caller_turn("4111 1111 1111 1111"))

    async with OpenAIRealtimeStandin(model) as standin:
        p = OpenAIRealtimeProvider(api_key="sk-standin", base_url=standin.base_url)
        await p.start(CallSetup("c1", settings=flow.agent.provider, first=first))
        await p.update_session(card)
        call = standin.calls[0]
        await call.next_event("session.update", 1)
        silence = AudioFrame(bytes(1600), 8000)  # 100 ms of 16-bit samples at 8 kHz
        await p.send_audio(AudioFrame(tone(300, 8000), 8000))
        for _ in range(10):  # 1 s of pause: past the agent's 600 ms, short of the node's 1.5 s
            await p.send_audio(silence)
        await call.wait_until(lambda: call.input_ms >= 1300)
        await asyncio.sleep(0.2)
        assert not [e for e in standin.sent if e["type"] == "input_audio_buffer.speech_stopped"]
        for _ in range(6):
            await p.send_audio(silence)
        await call.wait_until(lambda: bool(turns))
        stopped = [e for e in standin.sent if e["type"] == "input_audio_buffer.speech_stopped"]
        await p.hangup()
    assert call.session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 1500
    assert len(stopped) == 1 and stopped[0]["audio_end_ms"] == 300
    assert not standin.invalid
