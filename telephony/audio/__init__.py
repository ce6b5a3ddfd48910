"""Audio for the media path: rate-carrying frames, G.711, resampling, playout and recording.

Public surface:

* :class:`AudioFrame` -- s16le mono PCM that always carries its sample rate.
* :func:`ulaw_encode` / :func:`ulaw_decode` / :func:`alaw_encode` / :func:`alaw_decode` -- G.711.
* :class:`Resampler` -- one streaming soxr resampler per call and direction (keeps filter state
  across frames, so 20 ms frames resample without clicks at their boundaries).
* :class:`PlayoutBuffer` -- re-frames any audio into fixed 20 ms frames at the wire rate and
  knows how many milliseconds were really sent.
* :class:`LegRecorder` / :class:`CallRecorder` -- WAV recording of each leg (stdlib ``wave``).
"""

from telephony.audio.frames import AudioFrame, bytes_per_ms, silence
from telephony.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from telephony.audio.playout import PlayoutBuffer
from telephony.audio.recording import CallRecorder, LegRecorder
from telephony.audio.resample import Resampler

__all__ = [
    "AudioFrame",
    "CallRecorder",
    "LegRecorder",
    "PlayoutBuffer",
    "Resampler",
    "alaw_decode",
    "alaw_encode",
    "bytes_per_ms",
    "silence",
    "ulaw_decode",
    "ulaw_encode",
]
