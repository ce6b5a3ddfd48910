"""Audio frames that carry their sample rate.

All PCM inside voxflow is signed 16-bit little-endian mono ("slin"); only the rate varies
(8 kHz on the classic AudioSocket wire, 16/24 kHz for AI providers). A frame never travels
without its rate, so no stage can misread 24 kHz audio as 8 kHz.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_WIDTH = 2
"""Bytes per sample (s16le)."""

SUPPORTED_RATES = frozenset({8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000})


def bytes_per_ms(rate: int) -> float:
    """Bytes of s16le mono audio per millisecond at ``rate`` (16.0 at 8 kHz)."""
    return rate * SAMPLE_WIDTH / 1000


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """A chunk of s16le mono PCM at a known rate.

    On interruption (barge-in) frames are simply dropped from the playout queue; a frame is
    never split by the interruption itself.
    """

    pcm: bytes
    rate: int

    def __post_init__(self) -> None:
        if self.rate not in SUPPORTED_RATES:
            raise ValueError(f"unsupported sample rate {self.rate} Hz")
        if len(self.pcm) % SAMPLE_WIDTH:
            raise ValueError(f"s16le audio needs an even byte count, got {len(self.pcm)}")

    @property
    def samples(self) -> int:
        return len(self.pcm) // SAMPLE_WIDTH

    @property
    def duration_ms(self) -> float:
        return self.samples * 1000 / self.rate


_new_frame = object.__new__
_set_pcm = AudioFrame.__dict__["pcm"].__set__
_set_rate = AudioFrame.__dict__["rate"].__set__


def checked_frame(pcm: bytes, rate: int) -> AudioFrame:
    """An :class:`AudioFrame` whose rate and length the caller has already checked.

    For decoders on the per-frame path (the AudioSocket codec checks the kind's rate and the
    payload's even length before it builds a frame): it skips the dataclass ``__init__`` and
    ``__post_init__``, which take half the time of an incoming frame's decoding.
    """
    frame = _new_frame(AudioFrame)
    _set_pcm(frame, pcm)
    _set_rate(frame, rate)
    return frame


def silence(ms: int, rate: int = 8000) -> AudioFrame:
    """``ms`` milliseconds of digital silence at ``rate``."""
    return AudioFrame(bytes(rate * ms // 1000 * SAMPLE_WIDTH), rate)
