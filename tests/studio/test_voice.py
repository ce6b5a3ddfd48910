"""Voice in the browser (``studio.voice``): a clip goes down a real loopback AudioSocket line
into a real call bridge, and the agent's reply audio comes back as a WAV.

The local provider hears only simulated speech, so its clips are simulated speech recorded
into WAV files the way ``st.audio_input`` hands them over (16 kHz mono 16-bit). The OpenAI
Realtime path runs against the protocol stand-in of ``tests/standins``, built through the
same settings and provider factory as a worker's.
"""

from __future__ import annotations

import asyncio
import io
import wave
from base64 import b64decode
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import yaml

from dsl.compiler import load_flow
from runtime.providers.registry import Providers
from runtime.settings import load_settings
from studio.voice import (
    VoiceCall,
    VoiceCallError,
    VoiceInputError,
    clip_from_wav,
    simulated_speech,
    wav_bytes,
)
from telephony.audio.frames import AudioFrame
from telephony.audio.g711 import ulaw_decode
from telephony.audio.simspeech import SimSpeechDecoder, encode
from tests.standins.harness import tone
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall
from tests.standins.ultravox import UltravoxCall, UltravoxStandin
from tests.studio.conftest import REPO

FLOW = REPO / "flows" / "reminder.flow"
CONTACT: dict[str, Any] = yaml.safe_load((REPO / "flows" / "reminder.tests.yaml").read_text())[
    "contact"
]
GREETING = "Hi Olivia, this is Ava from Maple Street Clinic"
CONFIRMED = "Great, we'll see you then. Goodbye!"


def recorded(text: str, rate: int = 16000) -> bytes:
    """A browser recording (WAV, 16-bit mono) of the caller saying ``text`` as simulated speech."""
    return wav_bytes(AudioFrame(encode(text, rate), rate))


def decoded(wav: bytes) -> list[str]:
    """What a listener decodes from a reply WAV (simulated speech), in order."""
    with wave.open(io.BytesIO(wav)) as w:
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    return SimSpeechDecoder(rate).feed(pcm + bytes(rate // 10))


@pytest.fixture
def local_call() -> Iterator[VoiceCall]:
    call = VoiceCall.start(
        load_flow(FLOW),
        providers=Providers(load_settings({})),
        chain=["local"],
        contact=CONTACT,
        reply_wait_s=3.0,
    )
    try:
        yield call
    finally:
        call.close()


# ---- the local provider over the line -----------------------------------------------------


def test_call_opens_with_the_greeting_as_audio(local_call: VoiceCall) -> None:
    greeting = local_call.turns[0]

    assert greeting.caller == "" and not greeting.ended
    assert greeting.node_path == ("greet",)
    [line] = greeting.agent_lines
    assert line.startswith(GREETING)
    assert decoded(greeting.reply_wav) == [line]


def test_recorded_clip_reaches_the_flow_and_the_reply_plays_the_agents_line(
    local_call: VoiceCall,
) -> None:
    turn = local_call.send(clip_from_wav(recorded("yes I'll be there")), "recording")

    assert [(line["role"], line["text"]) for line in turn.lines if line["role"] != "event"] == [
        ("caller", "yes I'll be there"),
        ("agent", CONFIRMED),
    ]
    assert decoded(turn.reply_wav) == [CONFIRMED]
    assert turn.node_path == ("greet", "confirmed")
    assert turn.ended and turn.outcome == "confirmed"
    assert local_call.ended and local_call.result is not None
    assert local_call.result.ended_by == "agent"


def test_the_call_stays_up_across_turns(local_call: VoiceCall) -> None:
    unsure = local_call.send(simulated_speech("hmm purple elephants"), "text")
    assert not unsure.ended
    assert unsure.node_path == ("greet",)
    assert decoded(unsure.reply_wav) == unsure.agent_lines != []

    turn = local_call.send(simulated_speech("yes I'll be there"), "text")

    assert turn.node_path == ("greet", "confirmed")
    assert decoded(turn.reply_wav) == [CONFIRMED]
    assert [t.caller for t in local_call.turns] == ["", "text", "text"]


def test_a_real_voice_is_not_understood_by_the_local_provider(local_call: VoiceCall) -> None:
    """The local provider decodes only simulated speech: a voice (here a tone) stays unheard."""
    voice = AudioFrame(tone(800, 16000, freq=220.0), 16000)

    turn = local_call.send(clip_from_wav(wav_bytes(voice)), "recording")

    assert not [line for line in turn.lines if line["role"] == "caller"]
    assert not turn.ended and turn.node_path == ("greet",)
    assert local_call.hang_up() is not None
    assert local_call.result is not None and local_call.result.ended_by == "caller"


def test_a_clip_after_the_call_ended_is_refused(local_call: VoiceCall) -> None:
    local_call.send(simulated_speech("yes I'll be there"), "text")

    with pytest.raises(VoiceCallError, match="ended"):
        local_call.send(simulated_speech("hello?"), "text")


# ---- OpenAI Realtime and Ultravox (protocol stand-ins) --------------------------------------------------


def said(create: dict[str, Any]) -> str:
    return create["response"]["instructions"].split("\n", 1)[1]


async def model(call: RealtimeCall) -> None:
    """The stand-in's model: greets, hears the caller, takes ``confirms``, says the next line."""
    greet = await call.next_event("response.create", 0)
    await call.speak(said(greet))
    await call.caller_turn()
    call_id = await call.call_function("confirms", {})
    await call.function_output(call_id)
    await call.speak(said(await call.next_event("response.create", 1)))


async def said_yes_over(settings, provider: str) -> tuple[VoiceCall, object]:
    """A browser call on ``provider`` that sends one recorded "yes I'll be there", then hangs up."""
    call = await asyncio.to_thread(
        VoiceCall.start,
        load_flow(FLOW),
        providers=Providers(settings),
        chain=Providers(settings).chain(provider, []),
        contact=CONTACT,
    )
    try:
        clip = clip_from_wav(recorded("yes I'll be there"))
        turn = await asyncio.to_thread(call.send, clip, "recording")
    finally:
        await asyncio.to_thread(call.close)
    return call, turn


async def test_openai_realtime_hears_the_recording_and_its_reply_audio_comes_back() -> None:
    async with OpenAIRealtimeStandin(model) as standin:
        settings = load_settings(
            {"OPENAI_API_KEY": "sk-standin", "OPENAI_BASE_URL": standin.base_url}
        )
        assert Providers(settings).available()[0] == "openai"
        call, turn = await said_yes_over(settings, "openai")
        rt = standin.calls[0]
    assert not standin.errors
    # the stand-in got the clip as input_audio_buffer.append audio (μ-law on the wire) ...
    sent = b"".join(b64decode(e["audio"]) for e in rt.of_type("input_audio_buffer.append"))
    assert SimSpeechDecoder(8000).feed(ulaw_decode(sent).pcm) == ["yes I'll be there"]
    # ... and its transcription of it reached the flow
    assert [e["text"] for e in turn.lines if e["role"] == "caller"] == ["yes I'll be there"]
    # its reply audio (the confirmed node's line) came back down the line
    assert decoded(call.turns[0].reply_wav) == [call.turns[0].agent_lines[0]]
    assert decoded(turn.reply_wav) == [CONFIRMED]
    assert turn.node_path == ("greet", "confirmed")
    assert call.result is not None and call.result.providers == ["openai"]


async def ultravox_agent(call: UltravoxCall) -> None:
    """The stand-in's agent: hears the caller, then takes ``confirms`` (say lines are spoken
    by the stand-in as forced agent messages)."""
    call.items = {"heard": await call.caller_turn()}
    await call.invoke("confirms", {})


async def test_ultravox_hears_the_recording_and_its_reply_audio_comes_back() -> None:
    async with UltravoxStandin(ultravox_agent) as standin:
        settings = load_settings(
            {"ULTRAVOX_API_KEY": "uv-standin", "ULTRAVOX_BASE_URL": standin.base_url}
        )
        call, turn = await said_yes_over(settings, "ultravox")
        uv = next(iter(standin.calls.values()))
    assert not standin.errors
    assert uv.items["heard"] == "yes I'll be there"
    assert decoded(call.turns[0].reply_wav) == [call.turns[0].agent_lines[0]]
    assert decoded(turn.reply_wav) == [CONFIRMED]
    assert turn.node_path == ("greet", "confirmed")
    assert call.result is not None and call.result.providers == ["ultravox"]


# ---- clips --------------------------------------------------------------------------------


def _wav(samples: np.ndarray, rate: int, width: int, channels: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_stereo_24_bit_recordings_become_8_khz_mono_that_still_decodes(rate: int) -> None:
    mono = np.frombuffer(encode("call me back", rate), dtype="<i2").astype(np.int32) << 8
    as24 = mono.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
    stereo = np.repeat(as24, 2, axis=0)

    clip = clip_from_wav(_wav(stereo, rate, 3, 2))

    assert clip.rate == 8000
    assert SimSpeechDecoder(8000).feed(clip.pcm + bytes(1600)) == ["call me back"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not a wav", "not a PCM WAV"),
        (b"", "not a PCM WAV"),
        (_wav(np.zeros(0, dtype="<i2"), 16000, 2, 1), "empty"),
        (_wav(np.zeros(100, dtype="<i2"), 22050, 2, 1), "22050 Hz"),
    ],
)
def test_bad_recordings_are_refused_with_the_reason(data: bytes, problem: str) -> None:
    with pytest.raises(VoiceInputError, match=problem):
        clip_from_wav(data)


def test_simulated_speech_needs_text() -> None:
    with pytest.raises(VoiceInputError):
        simulated_speech("   ")
    assert SimSpeechDecoder(8000).feed(simulated_speech("yes").pcm + bytes(640)) == ["yes"]


def test_providers_offered_follow_the_keys_set() -> None:
    assert Providers(load_settings({})).available() == ["local"]
    keys = Providers(load_settings({"OPENAI_API_KEY": "sk-x", "ULTRAVOX_API_KEY": "uv-x"}))
    assert keys.available() == ["openai", "ultravox", "local"]
    assert keys.chain("openai", ["ultravox", "openai"]) == ["openai", "ultravox"]


def test_a_chain_with_no_usable_provider_ends_the_call_and_refuses_turns() -> None:
    call = VoiceCall.start(
        load_flow(FLOW),
        providers=Providers(load_settings({})),
        chain=["openai"],  # no OPENAI_API_KEY in these settings
        contact=CONTACT,
    )
    try:
        [opening] = call.turns
        assert opening.ended and opening.outcome == "provider_error"
        assert call.result is not None and call.result.ended_by == "provider"
        assert call.result.providers == []
        with pytest.raises(VoiceCallError):
            call.send(simulated_speech("yes"), "text")
    finally:
        call.close()
