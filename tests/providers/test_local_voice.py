"""The local voice provider decodes simulated speech only, and answers with simulated speech."""

from __future__ import annotations

from datetime import UTC, datetime

from runtime.engine.events import UpdateSession
from runtime.providers.base import (
    AgentAudio,
    AgentTranscript,
    CallerSpeechStarted,
    CallerTranscript,
    FunctionCall,
)
from runtime.providers.local_voice import LocalVoiceProvider, engine_request
from telephony.audio.frames import AudioFrame
from telephony.audio.simspeech import SimSpeechDecoder, encode
from tests.call.conftest import CONTACT, reminder
from tests.engines import new_engine
from tests.standins.harness import tone


def provider() -> LocalVoiceProvider:
    engine = new_engine(
        reminder(), contact=CONTACT, call_id="c", now=datetime(2026, 11, 23, tzinfo=UTC)
    )
    engine.start()
    return LocalVoiceProvider(engine_request(engine))


async def feed(p: LocalVoiceProvider, pcm: bytes) -> list[object]:
    pcm += bytes(320 * 10)
    for i in range(0, len(pcm) - len(pcm) % 320, 320):
        await p.send_audio(AudioFrame(pcm[i : i + 320], 8000))
    await p.hangup()
    return [e async for e in p.events()]


async def test_decoded_speech_becomes_transcript_and_transition() -> None:
    events = await feed(provider(), encode("I can't make it", 8000))
    assert isinstance(events[0], CallerSpeechStarted)
    assert events[1] == CallerTranscript("I can't make it", final=True)
    assert isinstance(events[2], FunctionCall) and events[2].name == "reschedule"


async def test_audio_that_is_not_simulated_speech_is_never_understood() -> None:
    noise = tone(1500, 8000, freq=523.0) + tone(500, 8000, freq=1333.0)
    assert await feed(provider(), noise) == []


async def test_say_is_spoken_as_decodable_audio_with_verbatim_transcript() -> None:
    p = provider()
    await p.update_session(UpdateSession("x"))
    await p.say("See you on Tuesday.")
    await p.hangup()
    events = [e async for e in p.events()]
    audio = b"".join(e.frame.pcm for e in events if isinstance(e, AgentAudio))
    assert SimSpeechDecoder(8000).feed(audio + bytes(400)) == ["See you on Tuesday."]
    assert AgentTranscript("See you on Tuesday.", "local-1", verbatim=True) in events
