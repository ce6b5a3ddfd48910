"""G.711 μ-law and A-law, via ``audioop``.

``audioop`` is the stdlib C implementation on Python 3.11/3.12 (deprecated, not removed) and
the ``audioop-lts`` drop-in (same module name) on 3.13+, so the tables are the reference ones.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

from telephony.audio.frames import SAMPLE_WIDTH, AudioFrame

lin2ulaw = audioop.lin2ulaw
"""``lin2ulaw(pcm, SAMPLE_WIDTH)``: :func:`ulaw_encode` on bytes, for per-frame paths that
should not pay a Python call for it."""


def ulaw_encode(frame: AudioFrame) -> bytes:
    """One μ-law byte per sample."""
    return audioop.lin2ulaw(frame.pcm, SAMPLE_WIDTH)


def ulaw_decode(data: bytes, rate: int = 8000) -> AudioFrame:
    return AudioFrame(audioop.ulaw2lin(data, SAMPLE_WIDTH), rate)


def alaw_encode(frame: AudioFrame) -> bytes:
    """One A-law byte per sample."""
    return audioop.lin2alaw(frame.pcm, SAMPLE_WIDTH)


def alaw_decode(data: bytes, rate: int = 8000) -> AudioFrame:
    return AudioFrame(audioop.alaw2lin(data, SAMPLE_WIDTH), rate)
