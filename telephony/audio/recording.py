"""WAV recording of a call's two legs.

Each leg is a mono s16le WAV at a fixed rate (frames of another rate are resampled on the
way in). ``wave`` rewrites the RIFF and data sizes when the file is closed, so a closed file
always carries the right header.

A leg keeps to the wall clock: when no frame came for a while (a far end that sends nothing
in silence, a stalled stream), the gap is written as silence, so the two legs of a call stay
aligned and the file lasts as long as the call did.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from pathlib import Path

from telephony.audio.frames import SAMPLE_WIDTH, AudioFrame
from telephony.audio.resample import Resampler

GAP_S = 0.1
"""A leg this far behind the wall clock has missed frames: the gap is filled with silence."""


class LegRecorder:
    """Append frames of one direction to a WAV file, silence where frames did not come."""

    def __init__(
        self, path: str | Path, rate: int = 8000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = Path(path)
        self.rate = rate
        self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(SAMPLE_WIDTH)
        self._wav.setframerate(rate)
        self._resamplers: dict[int, Resampler] = {}
        self._clock = clock
        self._started: float | None = None
        self._samples = 0
        self.closed = False

    def write(self, frame: AudioFrame) -> None:
        now = self._clock()
        if self._started is None:
            self._started = now - frame.duration_ms / 1000
        behind = now - self._started - self._samples / self.rate - frame.duration_ms / 1000
        if behind > GAP_S:
            gap = round(behind * self.rate)
            self._wav.writeframes(bytes(gap * SAMPLE_WIDTH))
            self._samples += gap
        if frame.rate != self.rate:
            resampler = self._resamplers.get(frame.rate)
            if resampler is None:
                resampler = self._resamplers[frame.rate] = Resampler(frame.rate, self.rate)
            frame = resampler.process(frame)
        self._wav.writeframes(frame.pcm)
        self._samples += len(frame.pcm) // SAMPLE_WIDTH

    def close(self) -> None:
        if self.closed:
            return
        for resampler in self._resamplers.values():
            self._wav.writeframes(resampler.flush().pcm)
        self._wav.close()
        self.closed = True


class CallRecorder:
    """Both legs of one call: ``<call_id>.caller.wav`` (heard) and ``<call_id>.agent.wav`` (said)."""

    def __init__(self, directory: str | Path, call_id: str, rate: int = 8000) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.caller = LegRecorder(directory / f"{call_id}.caller.wav", rate)
        self.agent = LegRecorder(directory / f"{call_id}.agent.wav", rate)

    def close(self) -> None:
        self.caller.close()
        self.agent.close()
