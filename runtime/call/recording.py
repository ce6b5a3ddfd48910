"""A call's two legs on one time line, in one stereo WAV: left the caller, right the agent.

A :class:`StereoRecorder` is the call's media tap (``MediaSession.tap``, see
``telephony/audiosocket/session.py``): the session hands it each frame where it crosses the
line, synchronously, so recording adds no layer between the session and the bridge.

* caller frames (:meth:`StereoRecorder.caller`) are appended as they are read: Asterisk (and
  the simulated PBX) send a frame every 20 ms for the whole call, silence included, so the
  caller's audio is the call's clock, and frames read late after a stalled loop still belong
  right after the ones before them. Only when the stream falls behind the wall clock by more
  than :data:`GAP_S` (the far end really stopped sending) is the gap filled with silence;
* agent frames (:meth:`StereoRecorder.sent`) are the 8 kHz frames the pacer wrote to the
  caller, so the agent leg is what the caller heard: audio a barge-in dropped was never sent,
  and the provider's 24 kHz audio is not resampled a second time. A frame that continues the
  one before it on the session's 20 ms grid is appended; one that starts after a pause starts
  at the moment it was sent.

Each channel is appended to its own raw file while the call lasts (a one-hour call never sits
in memory); :meth:`StereoRecorder.close` interleaves them into ``<name>.wav`` (written under a
temporary name, then renamed, so a reader never sees a half-written file) and removes them.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from telephony.audio.frames import SAMPLE_WIDTH, AudioFrame
from telephony.audio.resample import Resampler

GAP_S = 1.0
"""A caller stream this far behind the wall clock stopped; shorter lags are late reads."""
CHUNK_SAMPLES = 8000 * 4
"""Samples per channel interleaved at once when the WAV is written."""


class _Channel:
    """One leg: a raw s16le file at the recording rate, and where its audio ends."""

    def __init__(self, path: Path, rate: int) -> None:
        self.path = path
        self.rate = rate
        self.file: BinaryIO = path.open("wb")
        self.samples = 0
        self._resamplers: dict[int, Resampler] = {}

    def pcm(self, frame: AudioFrame) -> bytes:
        if frame.rate == self.rate:
            return frame.pcm
        resampler = self._resamplers.get(frame.rate)
        if resampler is None:
            resampler = self._resamplers[frame.rate] = Resampler(frame.rate, self.rate)
        return resampler.process(frame).pcm

    def write_at(self, start: int, pcm: bytes) -> None:
        """Write ``pcm`` from sample ``start`` (silence fills a gap; never overwrites)."""
        if start > self.samples:
            self.file.write(bytes((start - self.samples) * SAMPLE_WIDTH))
            self.samples = start
        self.file.write(pcm)
        self.samples += len(pcm) // SAMPLE_WIDTH

    def cut(self, at: int) -> None:
        """Drop everything after sample ``at``."""
        if at < self.samples:
            self.file.flush()
            self.file.truncate(at * SAMPLE_WIDTH)
            self.file.seek(at * SAMPLE_WIDTH)
            self.samples = at

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()


class StereoRecorder:
    """Record a call to ``directory/<name>.wav``: 16-bit stereo at ``rate`` Hz.

    Args:
        directory: created when missing.
        name: the file's stem (the call id).
        rate: sample rate of the recording; frames of other rates are resampled.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        directory: Path,
        name: str,
        *,
        rate: int = 8000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{name}.wav"
        self.rate = rate
        self._clock = clock
        self._t0 = clock()
        self._caller = _Channel(directory / f"{name}.caller.part", rate)
        self._agent = _Channel(directory / f"{name}.agent.part", rate)
        self.closed = False

    def _now(self) -> int:
        return round((self._clock() - self._t0) * self.rate)

    # Both hooks run for every frame of every call (``MediaTap``): the common case, a frame
    # that follows the one before it, is one buffered write and one addition.

    def caller(self, frame: AudioFrame) -> None:
        """A caller frame that arrived now."""
        channel = self._caller
        rate = self.rate
        pcm = frame.pcm if frame.rate == rate else channel.pcm(frame)
        n = len(pcm) // SAMPLE_WIDTH
        start = round((self._clock() - self._t0) * rate) - n  # as _now(), without the call
        if start - channel.samples > GAP_S * rate:
            channel.write_at(start, pcm)
        else:
            channel.file.write(pcm)
            channel.samples += n

    def sent(self, frame: AudioFrame, *, continues: bool) -> None:
        """An agent frame sent to the caller now; ``continues``: right after the last one."""
        channel = self._agent
        pcm = frame.pcm if frame.rate == self.rate else channel.pcm(frame)
        if continues:
            channel.file.write(pcm)
            channel.samples += len(pcm) // SAMPLE_WIDTH
        else:
            channel.write_at(max(channel.samples, self._now()), pcm)

    def close(self) -> Path:
        """Write the stereo WAV and remove the per-channel files; returns the WAV's path."""
        if self.closed:
            return self.path
        self.closed = True
        self._caller.close()
        self._agent.close()
        total = max(self._caller.samples, self._agent.samples)
        partial = self.path.with_name(self.path.name + ".part")
        with (
            wave.open(str(partial), "wb") as wav,
            self._caller.path.open("rb") as left,
            self._agent.path.open("rb") as right,
        ):
            wav.setnchannels(2)
            wav.setsampwidth(SAMPLE_WIDTH)
            wav.setframerate(self.rate)
            for at in range(0, total, CHUNK_SAMPLES):
                n = min(CHUNK_SAMPLES, total - at)
                frames = np.zeros((n, 2), dtype="<i2")
                for column, source in enumerate((left, right)):
                    chunk = np.frombuffer(source.read(n * SAMPLE_WIDTH), dtype="<i2")
                    frames[: len(chunk), column] = chunk
                wav.writeframes(frames.tobytes())
        partial.replace(self.path)
        self._caller.path.unlink(missing_ok=True)
        self._agent.path.unlink(missing_ok=True)
        return self.path

    def discard(self) -> None:
        """Remove every file of the recording (the call produced nothing worth keeping)."""
        self.closed = True
        for channel in (self._caller, self._agent):
            channel.close()
            channel.path.unlink(missing_ok=True)
