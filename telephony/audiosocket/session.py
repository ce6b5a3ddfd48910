"""One AudioSocket call: a playout buffer paced by the server's pacer, caller audio, barge-in.

Outgoing frames are sent by the server's :class:`~telephony.audiosocket.pacer.Pacer` on
absolute deadlines of the loop's monotonic clock (this call's first frame + k * 20 ms), so
lateness of one frame is never carried into the next and the stream does not drift.

Keep-alive: while the queue is empty the call sends a 20 ms frame of digital silence on the
same grid, so a live call sends 50 frames a second for its whole life, as a real line does.
Asterisk needs it twice over (see ``telephony/asterisk/README.md``): ``AudioSocket()`` hangs
up after 2,000 ms with no frame in either direction (``MAX_WAIT_TIMEOUT_MSEC`` in
apps/app_audiosocket.c), and it writes RTP toward the carrier only when a frame arrives, so
agent silence would otherwise be no RTP at all, which carriers' inactivity timers cut. When a
response arrives during keep-alive its first frame leaves at once and the grid restarts there;
a response that arrives a little slower than it plays is not cut with silence for up to
:data:`KEEPALIVE_HOLD_S`. Incoming bytes are decoded as they arrive (the connection's
protocol calls :meth:`MediaSession._feed`) and queued for :meth:`MediaSession.incoming`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from array import array
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol, overload

from telephony.audio.frames import AudioFrame, checked_frame
from telephony.audio.playout import PlayoutBuffer
from telephony.audio.recording import CallRecorder
from telephony.audiosocket import codec
from telephony.audiosocket.codec import Dtmf
from telephony.audiosocket.pacer import FRAME_S, MAX_LAG_S, Pacer

__all__ = [
    "FRAME_S",
    "INCOMING_LIMIT",
    "MAX_LAG_S",
    "Incoming",
    "MediaSession",
    "MediaTap",
    "SendTimes",
]

log = logging.getLogger(__name__)

INCOMING_LIMIT = 500
"""Incoming items kept for a slow consumer (10 s of audio); beyond it the oldest are dropped."""
CLOSE_TIMEOUT_S = 1.0
"""How long a closing call may take to flush its last bytes before the socket is aborted."""
KEEPALIVE_HOLD_S = 0.2
"""While a response is still arriving (part of a frame held back), ticks with no whole frame
send nothing for up to this long before keep-alive silence resumes (far below the 2 s after
which AudioSocket() hangs up)."""
_HANGUP = codec.encode(codec.Hangup())
_SAYS_GOODBYE = frozenset({"local_hangup", "server_closed", "abandoned"})
"""Close reasons for which the server sends the hang-up message before closing."""


Incoming = AudioFrame | Dtmf


class MediaTap(Protocol):
    """Sees a call's audio where it crosses the line, synchronously (a call recorder).

    Both hooks run on the per-frame path (50 times a second each way), so they must be quick
    and must not block.
    """

    def caller(self, frame: AudioFrame) -> None:
        """A caller frame, as it was read from the socket."""

    def sent(self, frame: AudioFrame, *, continues: bool) -> None:
        """An agent frame, as it was written to the caller (keep-alive silence is not given).

        ``continues``: it follows the previous frame given here with no gap, on the same
        20 ms grid; otherwise it starts after a pause, a skipped tick or a restarted grid.
        """


class SendTimes(Sequence[tuple[float, float]]):
    """The pacing trace of one call: ``(deadline, sent_at)`` per frame, oldest first.

    Kept in a flat array of floats rather than a list of tuples, so tracing thousands of
    calls does not grow the heap the cyclic garbage collector has to walk.
    """

    def __init__(self) -> None:
        self._times = array("d")

    def add(self, deadline: float, sent_at: float) -> None:
        self._times.append(deadline)
        self._times.append(sent_at)

    def __len__(self) -> int:
        return len(self._times) // 2

    @overload
    def __getitem__(self, index: int) -> tuple[float, float]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[float, float]]: ...

    def __getitem__(self, index: int | slice) -> tuple[float, float] | list[tuple[float, float]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("send_times index out of range")
        return self._times[2 * index], self._times[2 * index + 1]


class MediaSession:
    """The media of one call. Created by :class:`~telephony.audiosocket.AudioSocketServer`.

    Attributes:
        call_id: the AudioSocket UUID (canonical lower-case string) = the attempt id.
        wire_rate: sample rate on the wire, taken from the caller's audio kind (8 kHz default).
        closed: set once the call has ended, whoever ended it; ``close_reason`` says why
            (``remote_hangup``, ``local_hangup``, ``protocol_error``, ``remote_error``,
            ``connection_lost``, ``server_closed``, ``abandoned``, ``internal_error``).
        send_times: when ``trace`` is on, ``(deadline, sent_at)`` per audio frame written, in
            monotonic-clock seconds (the loop's clock); used by tests and benchmarks to
            measure pacing.
    """

    def __init__(
        self,
        call_id: str,
        transport: asyncio.WriteTransport,
        pacer: Pacer,
        *,
        wire_rate: int = 8000,
        recorder: CallRecorder | None = None,
        trace: bool = False,
        on_closed: Callable[[MediaSession], None] | None = None,
        keepalive: bool = True,
    ) -> None:
        self.call_id = call_id
        self.wire_rate = wire_rate
        self._transport = transport
        self._pacer = pacer
        self._buffer = PlayoutBuffer(wire_rate)
        self._header = codec.audio_header(wire_rate, self._buffer.frame_bytes)
        self._silence = bytes(self._buffer.frame_bytes)
        self._decoder = codec.Decoder()
        self._incoming: deque[Incoming | None] = deque()
        self._readers: list[asyncio.Future[None]] = []
        """Futures of the :meth:`incoming` iterators waiting for an item (set on delivery:
        cheaper per frame than an :class:`asyncio.Event`, whose ``set``/``wait`` add a Python
        call, a lock-style waiter deque and a loop lookup to every incoming frame)."""
        self._batch = 1
        """Caller frames the waiting reader asked for (``incoming(batch=...)``)."""
        self._events_queued = 0
        """Digits and the end of the call in :attr:`_incoming`: a reader never waits on them."""
        self._recorder = recorder
        self.tap: MediaTap | None = None
        """Given every caller frame read and every agent frame sent (``runtime.call.
        recording.StereoRecorder``); what was dropped by a barge-in is never sent, so never
        seen here."""
        self._tap_deadline = -1.0
        """Deadline of the last agent frame given to the tap."""
        self._frame_s = pacer.frame_s
        self._on_closed = on_closed
        self._ending = False
        self._abort: asyncio.TimerHandle | None = None
        self.closed = asyncio.Event()
        self.close_reason = ""
        self.dropped_incoming = 0
        self.send_times: SendTimes | None = SendTimes() if trace else None
        self.keepalive = keepalive
        self.silence_frames = 0
        """Keep-alive frames sent (not in :attr:`send_times`, which traces audio only)."""
        self._idle = True
        """The last frame sent was keep-alive silence (or none was sent yet)."""
        self._last_audio = -1e9
        """Loop time the last audio (not keep-alive) frame was sent."""
        self._loop = asyncio.get_running_loop()
        # The pacer's view of this call (see telephony.audiosocket.pacer.PacedStream).
        self.next_deadline: float | None = None
        self.scheduled = False
        self.paused = False

    # ---- public media API -------------------------------------------------------------

    async def incoming(self, batch: int = 1) -> AsyncIterator[Incoming]:
        """Caller audio frames and DTMF digits, in arrival order; ends when the call ends.

        Args:
            batch: caller frames to wait for before waking up: with 2, a consumer that
                forwards audio in 40 ms chunks (``input_audio_buffer.append``) runs once per
                chunk instead of once per frame. A DTMF digit or the end of the call wakes it
                at once, with the audio queued before it.
        """
        incoming = self._incoming
        ready = 0  # items to hand over before waiting again
        while True:
            while not ready:
                if incoming and (len(incoming) >= batch or self._events_queued):
                    ready = len(incoming)
                    break
                reader = self._loop.create_future()
                self._readers.append(reader)
                self._batch = batch
                try:
                    await reader
                except BaseException:  # cancelled or closed while waiting: forget its future
                    if reader in self._readers:
                        self._readers.remove(reader)
                    raise
            ready -= 1
            if not incoming:  # another iterator took it
                ready = 0
                continue
            item = incoming.popleft()
            if item is None:
                self._incoming.append(None)  # later iterators end too
                return
            if not isinstance(item, AudioFrame):
                self._events_queued -= 1
            yield item

    async def play(self, frame: AudioFrame) -> None:
        """Queue audio for the caller (any rate or size; re-framed to 20 ms at the wire rate).

        When the call is not sending (its queue had run dry), the first frame leaves within
        this call: waiting for the next timer would delay the start of every response.
        """
        if self._ending:
            return
        self._buffer.push(frame)
        self._send_soon()

    def end_response(self) -> None:
        """The current response has no more audio: pad and queue its last partial frame."""
        if self._ending:
            return
        self._buffer.end_of_audio()
        self._send_soon()

    def start_keepalive(self) -> None:
        """Start sending silence on this call's grid (the server calls it at connect)."""
        if self.keepalive and not self._ending and not self.scheduled:
            self._pacer.kick(self)

    def _send_soon(self) -> None:
        if not self.scheduled:
            self._pacer.kick(self)
        elif self._idle and len(self._buffer):
            self._pacer.restart(self)  # keep-alive only: the response need not wait a tick

    def new_response(self) -> None:
        """Start counting :attr:`played_ms` for a new response."""
        self._buffer.new_response()

    def interrupt(self) -> int:
        """Barge-in: drop every queued frame now; return ms played of the current response.

        Synchronous: the pacer finds an empty queue at this call's next deadline, so at most
        the frame already handed to the socket is heard after this call.
        """
        return self._buffer.clear()

    @property
    def played_ms(self) -> int:
        """Milliseconds of the current response already sent to the caller."""
        return self._buffer.played_ms

    @property
    def queued_ms(self) -> int:
        return self._buffer.queued_ms

    async def hangup(self) -> None:
        """Send the AudioSocket hang-up message, close the socket and wait until closed."""
        self._end("local_hangup")
        await self.closed.wait()

    # ---- outgoing (called by the pacer) -------------------------------------------------

    def send_frame(self, deadline: float, now: float) -> bool:
        """Write the next queued frame for ``deadline``; False when there is none to send."""
        if self._ending:
            return False
        frame = self._buffer.pop()
        silence = frame is None
        if silence:
            if not self.keepalive:
                return False
            if self._buffer.pending and now - self._last_audio < KEEPALIVE_HOLD_S:
                # A response is arriving a little slower than it plays: skip this tick
                # rather than cut a frame of silence into the middle of its words.
                return True
            frame = self._silence
        if self._transport.is_closing():
            self._end("connection_lost")  # the peer reset the socket; the reader may not know yet
            return False
        try:
            # Above the transport's high-water mark (64 KiB) the connection sets ``paused``
            # and the pacer stops feeding this call until it drains; the other calls go on.
            self._transport.write(self._header + frame)
            if self._recorder is not None:
                self._recorder.agent.write(AudioFrame(frame, self._buffer.wire_rate))
            tap = self.tap
            if tap is not None and not silence:
                follows = -1e-6 < deadline - self._tap_deadline - self._frame_s < 1e-6
                self._tap_deadline = deadline
                tap.sent(checked_frame(frame, self.wire_rate), continues=follows)
        except Exception:
            log.exception("call %s: sending audio failed", self.call_id)
            self._end("internal_error")
            return False
        self._idle = silence
        if silence:
            self.silence_frames += 1
        else:
            self._last_audio = now
            if self.send_times is not None:
                self.send_times.add(deadline, time.monotonic())
        return True

    # ---- incoming (called by the connection) --------------------------------------------

    def _feed(self, data: bytes | memoryview) -> None:
        """Bytes read from the socket: decode, queue audio/DTMF, end the call if told to."""
        if self._ending:
            return
        self._decoder.feed_into(data, self._on_audio, self._on_message)
        if self._decoder.error is not None and not self._ending:
            log.warning(
                "call %s: malformed AudioSocket stream: %s", self.call_id, self._decoder.error
            )
            self._end("protocol_error")

    def _on_message(self, message: codec.Message) -> None:
        if self._ending:
            return
        match message:
            case codec.Dtmf():
                self._deliver(message)
            case codec.Hangup():
                self._end("remote_hangup")
            case codec.Error(code):
                log.warning("call %s: peer sent error %s", self.call_id, code.hex())
                self._end("remote_error")
            case codec.Uuid():
                self._decoder.error = codec.ProtocolError("second UUID message in one call")

    def _on_audio(self, frame: AudioFrame) -> None:
        if self._ending:
            return  # what follows a hang-up or error message in the same read is dropped
        if frame.rate != self.wire_rate and not len(self._buffer) and not self._buffer.played_ms:
            self.wire_rate = frame.rate
            self._buffer = PlayoutBuffer(frame.rate)
            self._header = codec.audio_header(frame.rate, self._buffer.frame_bytes)
            self._silence = bytes(self._buffer.frame_bytes)
        if self._recorder is not None:
            self._recorder.caller.write(frame)
        if self.tap is not None:
            self.tap.caller(frame)
        self._deliver(frame)

    def _deliver(self, item: Incoming | None) -> None:
        incoming = self._incoming
        if item is not None and len(incoming) >= INCOMING_LIMIT:
            if not isinstance(incoming.popleft(), AudioFrame):
                self._events_queued -= 1
            self.dropped_incoming += 1
        incoming.append(item)
        if not isinstance(item, AudioFrame):
            self._events_queued += 1  # a digit or the end: wakes the reader whatever the batch
        elif len(incoming) < self._batch:
            return
        readers = self._readers
        if readers:
            for reader in readers:
                if not reader.done():
                    reader.set_result(None)
            readers.clear()

    # ---- ending -------------------------------------------------------------------------

    def _end(self, reason: str) -> None:
        """End the call (the first reason given is kept): hang-up message if ours, close."""
        if not self.close_reason:
            self.close_reason = reason
        if self._ending:
            return
        self._ending = True
        self._buffer.clear()
        transport = self._transport
        if self.close_reason in _SAYS_GOODBYE and not transport.is_closing():
            transport.write(_HANGUP)
        # close() flushes what is buffered first; a peer that stopped reading must not keep
        # the call (and its socket) open, hence the abort after CLOSE_TIMEOUT_S.
        transport.close()
        self._abort = self._loop.call_later(CLOSE_TIMEOUT_S, transport.abort)

    def _connection_lost(self, exc: Exception | None) -> None:
        """The socket is closed (by either side): the call is over."""
        if not self._ending:
            self._end("connection_lost" if exc is not None else "remote_hangup")
        if self._abort is not None:
            self._abort.cancel()
        if self._recorder is not None:
            self._recorder.close()
        self.closed.set()
        self._deliver(None)
        if self._on_closed is not None:
            self._on_closed(self)
