"""The lean transport serves the same OpenAI Realtime session as the reference one.

``bench/call.py`` drives its calls through the lean transport (``tests/standins/wsserver.py``)
because uvicorn and starlette cannot keep up with 500 sessions on one core; its figures mean
something only if the service it plays is the same. One scripted session (session update,
a client response, truncates, caller speech under server VAD with a transcript and the
server's own response, a client response cancelled before it spoke, and the errors for a
cancel with nothing active, a short commit and an unknown event) is played through the official SDK's client
against each transport, and the server events must be the same, byte for byte once parsed,
and each accepted by the SDK's own models.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from openai import AsyncOpenAI

from tests.standins.harness import tone
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall
from tests.standins.sdk_models import server_event_problems

PCMU = {"type": "audio/pcmu"}


def ulaw(pcm_ms: int, loud: bool) -> str:
    """``pcm_ms`` of 8 kHz μ-law, a tone or silence, as an append's base64."""
    from telephony.audio.frames import AudioFrame
    from telephony.audio.g711 import ulaw_encode

    pcm = tone(pcm_ms, 8000) if loud else bytes(16 * pcm_ms)
    return base64.b64encode(ulaw_encode(AudioFrame(pcm, 8000))).decode()


async def script(call: RealtimeCall) -> None:
    await call.next_event("response.create")
    await call.speak("Hello there", audio_ms=300)
    await call.caller_turn("yes please")
    await call.speak("Goodbye", audio_ms=200)  # the server's own response to the turn


async def session(transport: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Play the session against a stand-in on ``transport``: (server events, refused ones)."""
    events: list[dict[str, Any]] = []
    async with OpenAIRealtimeStandin(script, transport=transport) as standin:  # type: ignore[arg-type]
        client = AsyncOpenAI(base_url=standin.base_url, api_key="sk-standin")
        async with client.realtime.connect(model="gpt-realtime") as conn:

            async def until(kind: str) -> None:
                while True:
                    event = json.loads(await conn.recv_bytes())
                    events.append(event)
                    if event["type"] == kind:
                        return

            await until("session.created")
            await conn.session.update(session={"type": "realtime", "audio": {
                "input": {"format": PCMU, "transcription": {"model": "gpt-4o-mini-transcribe"}},
                "output": {"format": PCMU}}})  # fmt: skip
            await until("session.updated")
            await conn.response.create(response={"metadata": {"turn": "1"}})
            await until("response.done")
            item = next(e for e in events if e["type"] == "response.output_item.added")["item"]
            await conn.conversation.item.truncate(item_id=item["id"], content_index=0,
                                                  audio_end_ms=301)  # fmt: skip
            await until("error")
            await conn.conversation.item.truncate(item_id=item["id"], content_index=0,
                                                  audio_end_ms=120)  # fmt: skip
            await until("conversation.item.truncated")
            for ms, loud in ((100, False), (400, True), (600, False)):
                await conn.input_audio_buffer.append(audio=ulaw(ms, loud))
            await until("response.done")  # after the turn's transcript, the answer
            await conn.response.create()  # nobody speaks it: cancelled before any audio
            await until("rate_limits.updated")
            await conn.response.cancel()
            await until("response.done")
            await conn.response.cancel()
            await until("error")
            await conn.input_audio_buffer.clear()
            await until("input_audio_buffer.cleared")
            await conn.input_audio_buffer.append(audio=ulaw(40, False))
            await conn.input_audio_buffer.commit()
            await until("error")
            await conn.send({"type": "response.nonsense"})  # type: ignore[arg-type, typeddict-item]
            await until("error")
        refused = list(standin.invalid)
        standin.invalid.clear()  # the unknown event is refused on purpose (checked below)
    return events, refused


async def test_both_transports_send_the_same_events_and_the_sdk_accepts_each() -> None:
    reference, refused_ref = await session("reference")
    lean, refused_lean = await session("lean")
    kinds = [e["type"] for e in lean]
    assert kinds == [e["type"] for e in reference]
    assert lean == reference
    # What the session covers, so the comparison is not of two empty lists.
    for kind in ("session.updated", "response.created", "response.output_audio.delta",
                 "conversation.item.truncated", "input_audio_buffer.speech_started",
                 "input_audio_buffer.committed", "input_audio_buffer.cleared",
                 "conversation.item.input_audio_transcription.completed", "response.done"):  # fmt: skip
        assert kind in kinds, kind
    done = [e["response"] for e in lean if e["type"] == "response.done"]
    assert [r["status"] for r in done] == ["completed", "completed", "cancelled"]
    assert done[2]["status_details"]["reason"] == "client_cancelled"
    codes = [e["error"]["code"] for e in lean if e["type"] == "error"]
    assert codes == ["invalid_value", "response_cancel_not_active",
                     "input_audio_buffer_commit_empty", "invalid_value"]  # fmt: skip
    for event in lean:
        assert server_event_problems(event) == [], event
    assert refused_lean == refused_ref
    assert len(refused_lean) == 1 and "response.nonsense" in refused_lean[0]
