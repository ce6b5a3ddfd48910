"""The browser's recordings in, the agent's audio out: WAV ↔ 8 kHz slin, the AudioSocket rate.

``st.audio_input`` records a PCM WAV (16 kHz mono by default, the browser's rate when asked
for none). A clip is decoded with the standard library's ``wave``, mixed down to mono,
converted to signed 16-bit and resampled to 8 kHz with the telephone path's own soxr
resampler, so the caller's audio reaches the call exactly as an Asterisk line would carry it.
"""

from __future__ import annotations

import io
import wave

import numpy as np

from telephony.audio.frames import SUPPORTED_RATES, AudioFrame
from telephony.audio.resample import Resampler
from telephony.audio.simspeech import encode as simspeech_encode

WIRE_RATE = 8000
"""AudioSocket's classic slin rate: what the studio's call carries."""
MAX_CLIP_S = 120
"""Longest clip accepted: a test turn, not a dictation."""


class VoiceInputError(ValueError):
    """A clip the studio cannot send: says what is wrong with it and what to do."""


def clip_from_wav(data: bytes) -> AudioFrame:
    """Decode a PCM WAV recording to one 8 kHz mono slin frame.

    Raises:
        VoiceInputError: not a PCM WAV, an unsupported rate or width, empty, or too long.
    """
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise VoiceInputError(
            f"the recording is not a PCM WAV file ({exc}); record again or upload a WAV"
        ) from None
    if width not in (1, 2, 3, 4):
        raise VoiceInputError(f"{width * 8}-bit WAV samples are not supported; use 16-bit PCM")
    if rate not in SUPPORTED_RATES:
        raise VoiceInputError(
            f"a {rate} Hz recording cannot be resampled here; "
            f"record at one of {sorted(SUPPORTED_RATES)} Hz"
        )
    count = len(frames) // (width * channels)
    if count == 0:
        raise VoiceInputError("the recording is empty; record again")
    if count > MAX_CLIP_S * rate:
        raise VoiceInputError(f"the recording is longer than {MAX_CLIP_S} s; keep a turn short")
    samples = _to_int16(frames[: count * width * channels], width).reshape(count, channels)
    mono = samples.mean(axis=1).round().astype("<i2") if channels > 1 else samples[:, 0]
    resampler = Resampler(rate, WIRE_RATE)
    out = resampler.process(AudioFrame(mono.astype("<i2").tobytes(), rate)).pcm
    out += resampler.flush().pcm
    return AudioFrame(out, WIRE_RATE)


def _to_int16(raw: bytes, width: int) -> np.ndarray:
    if width == 1:  # WAV stores 8-bit samples unsigned
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8
    if width == 2:
        return np.frombuffer(raw, dtype="<i2")
    if width == 3:  # keep the top two bytes of each little-endian 24-bit sample
        return np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)[:, 1:].copy().view("<i2")[:, 0]
    return (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)


def wav_bytes(frame: AudioFrame) -> bytes:
    """``frame`` as a mono 16-bit PCM WAV file (what ``st.audio`` plays)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(frame.rate)
        wav.writeframes(frame.pcm)
    return buffer.getvalue()


def simulated_speech(text: str) -> AudioFrame:
    """``text`` spoken as voxflow's simulated speech at 8 kHz: what the local provider hears.

    Raises:
        VoiceInputError: empty text, or more than simulated speech carries in one utterance.
    """
    if not text.strip():
        raise VoiceInputError("type what the caller says first")
    try:
        return AudioFrame(simspeech_encode(text.strip(), WIRE_RATE), WIRE_RATE)
    except ValueError as exc:
        raise VoiceInputError(str(exc)) from None
