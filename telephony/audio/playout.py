"""The playout buffer: audio queued for the caller, cut into wire-sized frames.

It is pure (no clock, no socket): the AudioSocket writer pops one frame per 20 ms tick. It
accepts audio of any rate and size, resamples it to the wire rate with one streaming
resampler per input rate, and re-frames it into exact 20 ms frames. It counts what was really
popped (sent), which is what barge-in must report to the provider.
"""

from __future__ import annotations

from collections import deque

from telephony.audio.frames import SAMPLE_WIDTH, AudioFrame
from telephony.audio.resample import Resampler

FRAME_MS = 20


class PlayoutBuffer:
    """FIFO of 20 ms frames at ``wire_rate``.

    ``played_ms`` counts milliseconds popped since the current response began
    (:meth:`new_response` or :meth:`clear` start a new one).
    """

    def __init__(self, wire_rate: int = 8000, frame_ms: int = FRAME_MS) -> None:
        self.wire_rate = wire_rate
        self.frame_ms = frame_ms
        self.frame_bytes = wire_rate * frame_ms // 1000 * SAMPLE_WIDTH
        self._frames: deque[bytes] = deque()
        self._partial = bytearray()
        self._resamplers: dict[int, Resampler] = {}
        self.played_ms = 0
        self.total_played_ms = 0

    def push(self, frame: AudioFrame) -> None:
        if (
            frame.rate == self.wire_rate
            and not self._partial
            and len(frame.pcm) == self.frame_bytes
        ):
            self._frames.append(frame.pcm)  # already one wire frame: the common echo/relay case
            return
        if frame.rate != self.wire_rate:
            resampler = self._resamplers.get(frame.rate)
            if resampler is None:
                resampler = self._resamplers[frame.rate] = Resampler(frame.rate, self.wire_rate)
            frame = resampler.process(frame)
        partial = self._partial
        partial += frame.pcm
        n = self.frame_bytes
        whole = len(partial) - len(partial) % n
        if whole:
            with memoryview(partial) as view:  # one copy per frame, not a slice and a copy
                self._frames.extend(
                    view[start : start + n].tobytes() for start in range(0, whole, n)
                )
            del partial[:whole]

    def end_of_audio(self) -> None:
        """Flush the resamplers and pad the trailing partial frame so all of it gets played."""
        for resampler in self._resamplers.values():
            self._partial += resampler.flush().pcm
        self._resamplers.clear()
        n = self.frame_bytes
        while len(self._partial) >= n:
            self._frames.append(bytes(self._partial[:n]))
            del self._partial[:n]
        if self._partial:
            self._partial += bytes(self.frame_bytes - len(self._partial))
            self._frames.append(bytes(self._partial))
            self._partial.clear()

    def pop(self) -> bytes | None:
        """The next 20 ms frame to send, counted as played; ``None`` when empty."""
        if not self._frames:
            return None
        self.played_ms += self.frame_ms
        self.total_played_ms += self.frame_ms
        return self._frames.popleft()

    def clear(self) -> int:
        """Drop everything not yet sent; return the ms played of the response that was cut."""
        played = self.played_ms
        self._frames.clear()
        self._partial.clear()
        # Filter state belongs to the interrupted audio; the next response starts clean.
        self._resamplers.clear()
        self.played_ms = 0
        return played

    def new_response(self) -> None:
        self.played_ms = 0

    @property
    def pending(self) -> bool:
        """Audio of the current response is held back: a partial frame, or samples inside a
        resampler, that more audio (or :meth:`end_of_audio`) will turn into frames."""
        return bool(self._partial) or bool(self._resamplers)

    @property
    def queued_ms(self) -> int:
        return len(self._frames) * self.frame_ms

    def __len__(self) -> int:
        return len(self._frames)
