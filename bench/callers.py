"""Lean simulated Asterisk callers for ``bench/call.py`` (``--harness lean``).

N AudioSocket clients in one process, as cheap per frame as Python allows, so that one core
can drive 500 calls (25,000 frames a second each way) with time to spare:

* one clock for every caller: a ``loop.call_at`` timer fires ``phases`` times per 20 ms and
  each firing writes the frame of every caller in its group, in one pass (no task, no
  coroutine per caller or per frame). The callers' frames are spread over the 20 ms in
  ``phases`` groups, as the reference load generator spreads them, so the server sees the
  same arrival pattern from either harness;
* the frames are pre-built bytes: each caller's script (speech 1.2 s every 6 s and every
  third cycle a 0.8 s barge-in, ``bench/call.py``'s ``_speaking``) repeats every 18 s, i.e.
  900 frames, so each caller holds a tuple of 900 references to two shared frames;
* reading counts frames and, while stamping is on, writes each frame's arrival time into a
  preallocated ``array('d')`` (and, for frames that carry agent audio, a second one): no
  list growth and no per-frame object kept.

The AudioSocket side follows ``docs/protocols.md`` ("AudioSocket frames"): a caller sends its
call's UUID first, then 8 kHz signed-linear frames every 20 ms, and hangs up with a ``0x00``
frame before closing; a hang-up (``0x00``) or error (``0xFF``) from the server ends that
caller (it stops sending and closes), as Asterisk ends the channel.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from array import array
from collections.abc import Callable, Sequence

from telephony.audiosocket import codec

FRAME_S = 0.020
KIND_HANGUP = codec.KIND_HANGUP
KIND_ERROR = codec.KIND_ERROR
KIND_AUDIO_8K = 0x10
ZERO = bytes(8)


class LeanCaller(asyncio.Protocol):
    """One simulated Asterisk channel; its frames are written by :class:`Clock`."""

    def __init__(self, index: int, script: tuple[bytes, ...], capacity: int) -> None:
        self.index = index
        self.call_id = str(uuid.uuid4())
        self.script = script
        self.transport: asyncio.Transport | None = None
        self.write: Callable[[bytes], object] | None = None
        self.closed = False
        self.hung_up_by_server = False
        self.frames = 0
        """Audio frames received in all (stamped or not)."""
        self.stamps = array("d", bytes(8 * capacity))
        self.n = 0
        self.audio = array("d", bytes(8 * capacity))
        self.n_audio = 0
        self.overflow = 0
        self._buffer = b""

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport
        self.write = transport.write
        transport.write(codec.encode(codec.Uuid(uuid.UUID(self.call_id))))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        size = len(data)
        pos = 0
        stamping = Clock.stamping
        while size - pos >= 3:
            end = pos + 3 + (data[pos + 1] << 8 | data[pos + 2])
            if size < end:
                break
            kind = data[pos]
            if kind == KIND_AUDIO_8K:
                self.frames += 1
                if stamping:
                    n = self.n
                    if n < len(self.stamps):
                        self.stamps[n] = now
                        self.n = n + 1
                        if not data.startswith(ZERO, pos + 3):
                            self.audio[self.n_audio] = now
                            self.n_audio += 1
                    else:
                        self.overflow += 1
            elif kind == KIND_HANGUP or kind == KIND_ERROR:
                self.hung_up_by_server = True
                self.closed = True
                if self.transport is not None:
                    self.transport.close()
                return
            pos = end
        if pos < size:
            self._buffer = data[pos:]

    def connection_lost(self, exc) -> None:  # type: ignore[no-untyped-def]
        self.closed = True

    def hang_up(self) -> None:
        """Send the AudioSocket hang-up and close, as Asterisk ends a channel."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(codec.encode(codec.Hangup()))
            self.transport.close()
        self.closed = True

    def window(self, start: float, end: float) -> tuple[list[float], list[float], int]:
        """(|inter-arrival - 20 ms| of the frames inside the window, audio arrival times,
        frames inside the window)."""
        stamps = self.stamps[: self.n]
        inside = [t for t in stamps if start <= t <= end]
        jitter = [abs(b - a - FRAME_S) for a, b in zip(inside, inside[1:], strict=False)]
        return jitter, list(self.audio[: self.n_audio]), len(inside)


class Clock:
    """The one 20 ms clock: ``phases`` timer firings per period, each writing one group."""

    stamping = False
    """Whether callers stamp arrivals (on from the window's start to 0.5 s after its end)."""

    def __init__(self, callers: Sequence[LeanCaller], phases: int, start: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._groups = [list(callers[g::phases]) for g in range(phases)]
        self._phases = phases
        self._start = start
        self._tick = 0
        self._phase = 0
        self.behind = 0.0
        """How far a firing came after its due time, at worst (the harness's own lateness)."""
        self.firings = 0
        self.late_5ms = 0
        self.late_20ms = 0
        """Firings while stamping was on, and how many came more than 5 / 20 ms late."""
        self.sent = 0
        """Frames written while stamping was on."""
        self.window: tuple[float, float] | None = None
        self.on_window_start: Callable[[], None] | None = None
        self.on_window_end: Callable[[], None] | None = None
        self._handle = self._loop.call_at(start, self._fire)
        self._stopped = False

    def _fire(self) -> None:
        now = time.monotonic()
        tick, phase = self._tick, self._phase
        due = self._start + tick * FRAME_S + phase * FRAME_S / self._phases
        late = now - due
        if late > self.behind:
            self.behind = late
        window = self.window
        if window is not None:
            if not Clock.stamping and window[0] <= now < window[1] + 0.5:
                Clock.stamping = True
                if self.on_window_start is not None:
                    self.on_window_start()
            elif Clock.stamping and now >= window[1] + 0.5:
                Clock.stamping = False
                if self.on_window_end is not None:
                    self.on_window_end()
                    self.on_window_end = None
        at = tick % 900
        written = 0
        for caller in self._groups[phase]:
            if not caller.closed:
                caller.write(caller.script[at])  # type: ignore[misc]
                written += 1
        if Clock.stamping and window is not None and now <= window[1]:
            self.sent += written
            self.firings += 1
            self.late_5ms += late > 0.005
            self.late_20ms += late > 0.020
        phase += 1
        if phase == self._phases:
            phase = 0
            tick += 1
        self._tick, self._phase = tick, phase
        if not self._stopped:
            next_due = self._start + tick * FRAME_S + phase * FRAME_S / self._phases
            self._handle = self._loop.call_at(next_due, self._fire)

    def stop(self) -> None:
        self._stopped = True
        self._handle.cancel()


def scripts(
    calls: int, speaking: Callable[[float], bool], cycle_s: float, speech: bytes, silence: bytes
) -> list[tuple[bytes, ...]]:
    """Each caller's 900 frames (18 s: the script's three cycles), offset across the cycle
    as the reference load generator offsets them (caller ``i`` at ``cycle_s * i / calls``)."""
    period = 900
    out = []
    for i in range(calls):
        offset = cycle_s * i / calls
        out.append(
            tuple(speech if speaking(k * FRAME_S + offset) else silence for k in range(period))
        )
    return out
