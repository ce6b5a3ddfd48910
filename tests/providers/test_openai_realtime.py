"""The OpenAI Realtime adapter against the protocol-faithful stand-in (not the live service)."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime

import pytest

from dsl.ir import ProviderSettings
from runtime.engine.events import ToolSpec, UpdateSession
from runtime.providers.base import (
    AgentAudio,
    AgentAudioDone,
    AgentTranscript,
    CallerSpeechStarted,
    CallerTranscript,
    CallSetup,
    FunctionCall,
    ProviderError,
    ProviderUnavailable,
    ResponseDone,
)
from runtime.providers.openai_realtime import OpenAIRealtimeProvider
from runtime.providers.registry import Providers
from runtime.settings import load_settings
from telephony.audio.frames import AudioFrame
from telephony.audio.g711 import ulaw_decode
from tests.call.conftest import reminder
from tests.engines import new_engine
from tests.standins.harness import tone
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall

GREET = UpdateSession(
    instructions="You are Ava. Ask whether they can make it.",
    tools=(ToolSpec("confirms", "The caller confirms"), ToolSpec("opt_out", "Stop calling me")),
)


def provider(standin: OpenAIRealtimeStandin, **kw: object) -> OpenAIRealtimeProvider:
    return OpenAIRealtimeProvider(api_key="sk-standin", base_url=standin.base_url, **kw)  # type: ignore[arg-type]


async def collect_until(p: OpenAIRealtimeProvider, kind: type, limit: int = 200) -> list[object]:
    out: list[object] = []
    async for event in p.events():
        out.append(event)
        if isinstance(event, kind) or len(out) >= limit:
            break
    return out


async def test_start_sends_ga_session_update_with_node_instructions_tools_and_g711() -> None:
    async with OpenAIRealtimeStandin() as standin:
        p = provider(standin)
        settings = ProviderSettings(voice="cedar", silence_duration_ms=700, language="fr-FR")
        await p.start(CallSetup("c1", settings=settings, first=GREET))
        call = standin.calls[0]
        update = (await call.next_event("session.update"))["session"]
        await p.hangup()
    assert update["type"] == "realtime"
    assert update["instructions"] == GREET.instructions
    assert [t["name"] for t in update["tools"]] == ["confirms", "opt_out"]
    assert update["tools"][0]["type"] == "function"
    audio = update["audio"]
    assert audio["input"]["format"] == {"type": "audio/pcmu"} == audio["output"]["format"]
    assert audio["output"]["voice"] == "cedar"
    assert audio["input"]["transcription"]["language"] == "fr"
    vad = audio["input"]["turn_detection"]
    assert vad == {"type": "server_vad", "create_response": True, "interrupt_response": False,
                   "silence_duration_ms": 700}  # fmt: skip
    assert not [e for e in standin.sent if e["type"] == "error"]


async def test_say_is_a_response_with_verbatim_instructions_and_no_tools() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")
        await call.speak("Hi Ann, this is Ava.", audio_ms=200)

    async with OpenAIRealtimeStandin(script) as standin:
        p = provider(standin)
        await p.start(CallSetup("c1", first=GREET))
        await p.say("Hi Ann, this is Ava.")
        events = await collect_until(p, ResponseDone)
        create = standin.calls[0].of_type("response.create")[0]
        await p.hangup()
    assert create["response"]["instructions"].endswith("\nHi Ann, this is Ava.")
    assert create["response"]["tool_choice"] == "none"
    audio = [e for e in events if isinstance(e, AgentAudio)]
    assert sum(len(a.frame.pcm) for a in audio) == 200 * 16  # μ-law 8 kHz → slin 8 kHz
    assert all(a.frame.rate == 8000 for a in audio)
    transcript = next(e for e in events if isinstance(e, AgentTranscript))
    assert transcript.verbatim and transcript.text == "Hi Ann, this is Ava."
    assert any(isinstance(e, AgentAudioDone) for e in events)


async def test_pcm24k_format_delivers_24khz_frames_and_takes_24khz_input() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")
        await call.speak("ok", audio_ms=100)

    async with OpenAIRealtimeStandin(script) as standin:
        p = provider(standin, audio_format="pcm24k")
        await p.start(CallSetup("c1", first=GREET))
        assert p.input_rate == 24000
        await p.send_audio(AudioFrame(tone(20, 24000), 24000))
        await p.respond()
        events = await collect_until(p, ResponseDone)
        call = standin.calls[0]
        await call.next_event("input_audio_buffer.append")
        await p.hangup()
    frames = [e.frame for e in events if isinstance(e, AgentAudio)]
    assert {f.rate for f in frames} == {24000} and sum(len(f.pcm) for f in frames) == 4800
    assert call.input_ms == 20
    with pytest.raises(ValueError):
        await p.send_audio(AudioFrame(tone(20, 8000), 8000))


async def test_says_are_serialised_one_response_at_a_time() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create", 0)
        await asyncio.sleep(0.1)
        assert len(call.of_type("response.create")) == 1  # second say waits for response.done
        await call.speak("one", audio_ms=100)
        await call.next_event("response.create", 1)
        await call.speak("two", audio_ms=100)

    async with OpenAIRealtimeStandin(script) as standin:
        p = provider(standin)
        await p.start(CallSetup("c1", first=GREET))
        await p.say("one")
        await p.say("two")
        texts = []
        async for event in p.events():
            if isinstance(event, AgentTranscript):
                texts.append(event.text)
            if len(texts) == 2:
                break
        await p.hangup()
    assert texts == ["one", "two"] and not standin.errors


async def test_function_call_then_transition_result_updates_session_before_output() -> None:
    nxt = UpdateSession(
        instructions="Confirm and say goodbye.", tools=(ToolSpec("end_call", "Hang up"),)
    )

    async def script(call: RealtimeCall) -> None:
        call_id = await call.call_function("confirms", {"note": "yes"})
        await call.function_output(call_id)

    async with OpenAIRealtimeStandin(script) as standin:
        p = provider(standin)
        await p.start(CallSetup("c1", first=GREET))
        events = await collect_until(p, FunctionCall)
        fc = events[-1]
        assert (
            isinstance(fc, FunctionCall)
            and fc.name == "confirms"
            and fc.arguments == {"note": "yes"}
        )
        await p.function_result(fc.call_id, {"ok": True, "node": "confirmed"}, update=nxt)
        call = standin.calls[0]
        output = await call.function_output(fc.call_id)
        await p.hangup()
    kinds = [e["type"] for e in call.received if e["type"] != "input_audio_buffer.append"]
    assert kinds[-2:] == ["session.update", "conversation.item.create"]
    assert call.session["instructions"] == "Confirm and say goodbye."
    assert [t["name"] for t in call.session["tools"]] == ["end_call"]
    assert output["output"] == '{"ok": true, "node": "confirmed"}'
    assert p.usage.responses == 1 and p.usage.input_tokens == 40 and p.usage.cost_usd > 0


async def test_barge_in_cancels_active_response_and_truncates_to_played_ms() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")
        await call.speak("A long explanation", audio_ms=2000, pace=0.05)

    async with OpenAIRealtimeStandin(script) as standin:
        p = provider(standin)
        await p.start(CallSetup("c1", first=GREET))
        await p.say("A long explanation")
        item_id = None
        async for event in p.events():
            if isinstance(event, AgentAudio):
                item_id = event.item_id
                break
        await asyncio.sleep(0.2)
        await p.interrupted(item_id, 240)
        events = await collect_until(p, ResponseDone)
        call = standin.calls[0]
        truncate = await call.next_event("conversation.item.truncate")
        await p.hangup()
    assert call.of_type("response.cancel")
    assert truncate == {**truncate, "item_id": item_id, "content_index": 0, "audio_end_ms": 240}
    assert events[-1] == ResponseDone("cancelled")
    assert not [e for e in standin.sent if e["type"] == "error"]


async def test_caller_speech_gives_barge_in_event_and_final_transcript() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.caller_turn("I can make it")

    async with OpenAIRealtimeStandin(script) as standin:
        p = provider(standin)
        await p.start(CallSetup("c1", first=GREET))
        for chunk in (bytes(320), tone(300, 8000), bytes(16 * 700)):
            for i in range(0, len(chunk), 320):
                await p.send_audio(AudioFrame(chunk[i : i + 320], 8000))
        events = await collect_until(p, CallerTranscript)
        await p.hangup()
    assert isinstance(events[0], CallerSpeechStarted)
    assert events[-1] == CallerTranscript("I can make it", final=True)


async def test_dropped_connection_is_a_fatal_provider_error() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("session.update")
        await call.drop()

    async with OpenAIRealtimeStandin(script) as standin:
        p = provider(standin)
        await p.start(CallSetup("c1", first=GREET))
        events = [e async for e in p.events()]
    assert len(events) == 1 and isinstance(events[0], ProviderError) and events[0].fatal


async def test_server_error_event_is_fatal_and_request_errors_are_not() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.error("bad truncate", "invalid_value")
        await call.error("The server had an error", "server_error", kind="server_error")

    async with OpenAIRealtimeStandin(script) as standin:
        p = provider(standin)
        await p.start(CallSetup("c1", first=GREET))
        events = await collect_until(p, ProviderError, limit=10)
        events += await collect_until(p, ProviderError, limit=10)
        await p.hangup()
    errors = [e for e in events if isinstance(e, ProviderError)]
    assert [e.fatal for e in errors] == [False, True]


async def test_refused_or_unreachable_service_raises_provider_unavailable() -> None:
    async with OpenAIRealtimeStandin() as standin:
        bad = OpenAIRealtimeProvider(api_key="sk-wrong", base_url=standin.base_url)
        with pytest.raises(ProviderUnavailable) as refused:
            await bad.start(CallSetup("c1"))
        port = standin.base_url
    assert refused.value.provider == "openai" and "sk-wrong" not in str(refused.value)
    gone = OpenAIRealtimeProvider(api_key="sk-standin", base_url=port, connect_timeout=2)
    with pytest.raises(ProviderUnavailable):
        await gone.start(CallSetup("c1"))


async def test_caller_audio_goes_in_40_ms_appends_in_order_and_the_rest_first() -> None:
    async with OpenAIRealtimeStandin() as standin:
        p = provider(standin)
        await p.start(CallSetup("c1", first=GREET))
        for n in range(1, 6):  # each frame a distinct level, so order shows in the bytes
            await p.send_audio(
                AudioFrame((n * 1000).to_bytes(2, "little", signed=True) * 160, 8000)
            )
        await p.respond()  # the fifth frame (half a chunk) must reach the server before it
        call = standin.calls[0]
        await call.next_event("response.create")
        await p.send_audio(AudioFrame(bytes(320), 8000))
        await p.hangup()  # and a partial chunk on hang-up too
        await call.wait_until(lambda: call.closed, 5)
    kinds = [e["type"] for e in call.received if e["type"] != "session.update"]
    assert kinds == ["input_audio_buffer.append"] * 3 + ["response.create"] + [
        "input_audio_buffer.append"
    ]
    appends = [base64.b64decode(e["audio"]) for e in call.of_type("input_audio_buffer.append")]
    assert [len(a) for a in appends] == [320, 320, 160, 160]  # μ-law: 8 bytes per ms
    levels = [
        ulaw_decode(a[i : i + 160]).pcm[:2] for a in appends[:3] for i in range(0, len(a), 160)
    ]
    assert [int.from_bytes(x, "little", signed=True) for x in levels] == sorted(
        int.from_bytes(x, "little", signed=True) for x in levels
    )
    assert call.input_ms == 120


async def test_append_size_is_configurable_and_20_ms_sends_each_frame() -> None:
    async with OpenAIRealtimeStandin() as standin:
        p = provider(standin, append_ms=20, audio_format="pcm24k")
        await p.start(CallSetup("c1", first=GREET))
        for _ in range(3):
            await p.send_audio(AudioFrame(tone(20, 24000), 24000))
        call = standin.calls[0]
        await call.wait_until(lambda: len(call.of_type("input_audio_buffer.append")) == 3, 5)
        await p.hangup()
    assert [
        len(base64.b64decode(e["audio"])) for e in call.of_type("input_audio_buffer.append")
    ] == [960] * 3
    with pytest.raises(ValueError, match="append_ms"):
        provider(standin, append_ms=0)


def test_the_deployment_sets_the_append_size_and_keeps_40_ms_by_default() -> None:
    engine = new_engine(reminder(), contact={}, call_id="c1", now=datetime.now(UTC))
    settings = load_settings({"OPENAI_API_KEY": "sk-test"})
    assert Providers(settings).voice("openai", engine).input_chunk_ms == 40  # type: ignore[attr-defined]
    bigger = Providers(settings, openai_append_ms=80).voice("openai", engine)
    assert bigger.input_chunk_ms == 80  # type: ignore[attr-defined]


def test_the_append_size_comes_from_voxflow_openai_append_ms() -> None:
    engine = new_engine(reminder(), contact={}, call_id="c1", now=datetime.now(UTC))
    settings = load_settings({"OPENAI_API_KEY": "sk-test", "VOXFLOW_OPENAI_APPEND_MS": "120"})
    p = Providers(settings).voice("openai", engine)
    assert p.input_chunk_ms == 120  # type: ignore[attr-defined]
