"""The OpenAI Realtime stand-in speaks the GA protocol to the official ``openai`` client."""

from __future__ import annotations

import base64

import pytest
from openai import AsyncOpenAI

from tests.standins.harness import tone
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall


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
