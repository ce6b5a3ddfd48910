"""WAV recording of a call's two legs.

Each leg is a mono s16le WAV at a fixed rate (frames of another rate are resampled on the
way in). ``wave`` rewrites the RIFF and data sizes when the file is closed, so a closed file
always carries the right header.
"""

from __future__ import annotations

import wave
from pathlib import Path

from telephony.audio.frames import SAMPLE_WIDTH, AudioFrame
from telephony.audio.resample import Resampler


class LegRecorder:
    """Append frames of one direction to a WAV file."""

    def __init__(self, path: str | Path, rate: int = 8000) -> None:
        self.path = Path(path)
        self.rate = rate
        self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(SAMPLE_WIDTH)
        self._wav.setframerate(rate)
        self._resamplers: dict[int, Resampler] = {}
        self.closed = False

    def write(self, frame: AudioFrame) -> None:
        if frame.rate != self.rate:
            resampler = self._resamplers.get(frame.rate)
            if resampler is None:
                resampler = self._resamplers[frame.rate] = Resampler(frame.rate, self.rate)
            frame = resampler.process(frame)
        self._wav.writeframes(frame.pcm)

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
