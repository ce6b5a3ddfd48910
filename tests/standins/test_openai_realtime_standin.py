"""The OpenAI Realtime stand-in speaks the GA protocol to the official ``openai`` client,
over each of its transports (uvicorn + starlette, and the lean Sans-I/O server)."""

from __future__ import annotations

import asyncio
import base64

import pytest
from openai import AsyncOpenAI

from tests.standins import openai_realtime
from tests.standins.harness import tone
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall


@pytest.fixture(autouse=True, params=["reference", "lean"])
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(openai_realtime, "DEFAULT_TRANSPORT", request.param)
    return request.param


async def test_official_client_connects_and_receives_session_created() -> None:
    async with OpenAIRealtimeStandin() as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            event = await conn.recv()
            assert event.type == "session.created"
            assert event.session.model == "gpt-realtime"
            await conn.session.update(session={"type": "realtime", "instructions": "Be brief."})
            updated = await conn.recv()
            assert updated.type == "session.updated"
            assert updated.session.instructions == "Be brief."


async def test_wrong_api_key_is_refused_before_any_event() -> None:
    async with OpenAIRealtimeStandin() as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-wrong")
        with pytest.raises(Exception, match="403"):
            async with client.realtime.connect(model="gpt-realtime") as conn:
                await conn.recv()
        assert standin.rejected == 1 and standin.calls == []


async def test_session_update_without_type_or_with_beta_names_gets_error_event() -> None:
    async with OpenAIRealtimeStandin() as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.send({"type": "session.update", "session": {"instructions": "x"}})
            err = await conn.recv()
            assert err.type == "error" and err.error.code == "missing_required_parameter"
            await conn.send(
                {"type": "session.update", "session": {"type": "realtime", "voice": "alloy"}}
            )
            err = await conn.recv()
            assert err.type == "error" and err.error.param == "session.voice"
        # Both events are invalid for the SDK's models too; the suite would fail on them.
        assert len(standin.invalid) == 3 and all("session.update" in p for p in standin.invalid)
        standin.invalid.clear()


async def test_scripted_audio_response_and_truncate_validation() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")
        await call.speak("Hello there", audio_ms=300)

    async with OpenAIRealtimeStandin(script) as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.response.create()
            audio = b""
            item_id = ""
            async for event in conn:
                if event.type == "response.output_audio.delta":
                    audio += base64.b64decode(event.delta)
                    item_id = event.item_id
                if event.type == "response.done":
                    assert event.response.usage.output_tokens > 0
                    break
            assert len(audio) == 300 * 48
            await conn.conversation.item.truncate(
                item_id=item_id, content_index=0, audio_end_ms=301
            )
            assert (await conn.recv()).type == "error"
            await conn.conversation.item.truncate(
                item_id=item_id, content_index=0, audio_end_ms=120
            )
            truncated = await conn.recv()
            assert truncated.type == "conversation.item.truncated" and truncated.audio_end_ms == 120


async def test_energy_vad_turns_caller_audio_into_speech_events_and_transcript() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.caller_turn("yes please")

    async with OpenAIRealtimeStandin(script) as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.session.update(
                session={
                    "type": "realtime",
                    "audio": {"input": {"transcription": {"model": "gpt-4o-mini-transcribe"}}},
                }
            )
            await conn.recv()
            for chunk in (bytes(4800), tone(400, 24000), bytes(48 * 600)):
                await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
            kinds = []
            async for event in conn:
                kinds.append(event.type)
                if event.type == "conversation.item.input_audio_transcription.completed":
                    assert event.transcript == "yes please"
                    break
            assert kinds[0] == "input_audio_buffer.speech_started"
            assert "input_audio_buffer.committed" in kinds


async def _events_until(conn, kind: str) -> list:
    out = []
    async for event in conn:
        out.append(event)
        if event.type == kind:
            return out
    return out


async def test_a_second_response_while_one_is_active_gets_the_services_error() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create", 1)
        await call.speak("first", audio_ms=100)

    async with OpenAIRealtimeStandin(script) as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.response.create(event_id="mine_1", response={"metadata": {"k": "1"}})
            await conn.response.create(event_id="mine_2")
            events = await _events_until(conn, "response.done")
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and events[0].response.metadata == {"k": "1"}
    err = next(e for e in events if e.type == "error").error
    assert (err.code, err.event_id) == ("conversation_already_has_active_response", "mine_2")
    assert kinds.count("response.created") == 1


async def test_server_vad_answers_a_caller_turn_with_its_own_response() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.caller_turn("hello")  # the script says nothing more: the server answers

    async with OpenAIRealtimeStandin(script) as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            for chunk in (bytes(4800), tone(400, 24000), bytes(48 * 600)):
                await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
            async with asyncio.timeout(5):
                events = await _events_until(conn, "response.created")
    kinds = [e.type for e in events]
    assert kinds.index("input_audio_buffer.committed") < kinds.index("response.created")
    assert events[-1].response.metadata is None
    assert not standin.calls[0].of_type("response.create")


async def test_cancelled_audio_keeps_arriving_for_a_while_and_the_reason_is_client_cancelled() -> (
    None
):
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")
        await call.speak("a long answer", audio_ms=3000, pace=0.02)

    async with OpenAIRealtimeStandin(script) as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.response.create()
            after_cancel = 0
            cancelled = False
            async for event in conn:
                if event.type == "response.output_audio.delta":
                    if cancelled:
                        after_cancel += len(base64.b64decode(event.delta)) // 48
                    elif not cancelled:
                        await conn.response.cancel()
                        cancelled = True
                if event.type == "response.done":
                    done = event
                    break
    assert after_cancel >= standin.calls[0].cancel_tail_ms
    assert done.response.status == "cancelled"
    assert done.response.status_details.reason == "client_cancelled"


async def test_interrupt_response_cancels_on_caller_speech_with_reason_turn_detected() -> None:
    async def script(call: RealtimeCall) -> None:
        await call.next_event("response.create")
        turn = asyncio.create_task(call.caller_turn("stop"))
        await call.speak("a long answer", audio_ms=3000, pace=0.02)
        await turn

    async with OpenAIRealtimeStandin(script) as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.response.create()
            for chunk in (tone(400, 24000), bytes(48 * 600)):
                await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
            events = await _events_until(conn, "response.done")
    assert events[-1].response.status_details.reason == "turn_detected"


async def test_session_update_replaces_formats_and_turn_detection_whole() -> None:
    async with OpenAIRealtimeStandin() as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.session.update(session={"type": "realtime", "audio": {
                "input": {"format": {"type": "audio/pcmu"},
                          "turn_detection": {"type": "semantic_vad", "eagerness": "low"}},
                "output": {"voice": "marin"}}})  # fmt: skip
            updated = await conn.recv()
    audio = standin.calls[0].session["audio"]
    assert audio["input"]["format"] == {"type": "audio/pcmu"}
    assert audio["input"]["turn_detection"] == {"type": "semantic_vad", "eagerness": "low"}
    assert audio["output"] == {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin",
                               "speed": 1.0}  # fmt: skip
    assert updated.type == "session.updated"


async def test_every_ga_client_event_is_understood_and_a_short_commit_is_refused() -> None:
    async with OpenAIRealtimeStandin() as standin:
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.conversation.item.retrieve(item_id="item_missing")
            err = await conn.recv()
            await conn.output_audio_buffer.clear()
            await conn.input_audio_buffer.append(audio=base64.b64encode(bytes(48 * 40)).decode())
            await conn.input_audio_buffer.commit()
            short = await conn.recv()
    assert err.type == "error" and err.error.code == "item_not_found"
    assert short.type == "error" and short.error.code == "input_audio_buffer_commit_empty"
