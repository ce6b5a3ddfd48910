"""One AudioSocket call: a reader task, a paced writer task, a playout buffer, barge-in.

The writer sends one 20 ms frame per tick, scheduled on absolute deadlines of the loop's
monotonic clock (``deadline += 20 ms``), so lateness of one tick is never carried into the
next and the stream does not drift. When the queue runs dry it stops sending (Asterisk plays
silence by itself) and restarts the schedule at the next queued frame.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator

from telephony.audio.frames import AudioFrame
from telephony.audio.playout import PlayoutBuffer
from telephony.audio.recording import CallRecorder
from telephony.audiosocket import codec
from telephony.audiosocket.codec import Dtmf

log = logging.getLogger(__name__)

FRAME_S = 0.020
MAX_LAG_S = 0.200
"""A writer more than this late (a stalled loop) restarts its schedule instead of bursting."""
INCOMING_LIMIT = 500
"""Incoming items kept for a slow consumer (10 s of audio); beyond it the oldest are dropped."""
READ_CHUNK = 65536


Incoming = AudioFrame | Dtmf


class MediaSession:
    """The media of one call. Created by :class:`~telephony.audiosocket.AudioSocketServer`.

    Attributes:
        call_id: the AudioSocket UUID (canonical lower-case string) = the attempt id.
        wire_rate: sample rate on the wire, taken from the caller's audio kind (8 kHz default).
        closed: set once the call has ended, whoever ended it; ``close_reason`` says why
            (``remote_hangup``, ``local_hangup``, ``protocol_error``, ``remote_error``,
            ``connection_lost``, ``server_closed``, ``abandoned``, ``internal_error``).
        send_times: when ``trace`` is on, ``(deadline, sent_at)`` per audio frame written, in
            loop-clock seconds; used by tests and benchmarks to measure pacing.
    """

    def __init__(
        self,
        call_id: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        wire_rate: int = 8000,
        recorder: CallRecorder | None = None,
        trace: bool = False,
    ) -> None:
        self.call_id = call_id
        self.wire_rate = wire_rate
        self._reader = reader
        self._writer = writer
        self._buffer = PlayoutBuffer(wire_rate)
        self._wake = asyncio.Event()
        self._incoming: deque[Incoming | None] = deque()
        self._incoming_ready = asyncio.Event()
        self._recorder = recorder
        self._end_requested = asyncio.Event()
        self._local_hangup = False
        self.closed = asyncio.Event()
        self.close_reason = ""
        self.dropped_incoming = 0
        self.send_times: list[tuple[float, float]] | None = [] if trace else None
        self._loop = asyncio.get_running_loop()
        self._deadline: float | None = None
        """Loop-clock time the next frame is due; None when the writer is idle."""
        self._writer_idle = False
        """The writer task waits for audio: :meth:`_kick` may send the first frame itself."""

    # ---- public media API -------------------------------------------------------------

    async def incoming(self) -> AsyncIterator[Incoming]:
        """Caller audio frames and DTMF digits, in arrival order; ends when the call ends."""
        while True:
            while not self._incoming:
                self._incoming_ready.clear()
                await self._incoming_ready.wait()
            item = self._incoming.popleft()
            if item is None:
                self._incoming.append(None)  # later iterators end too
                return
            yield item

    async def play(self, frame: AudioFrame) -> None:
        """Queue audio for the caller (any rate or size; re-framed to 20 ms at the wire rate)."""
        if self.closed.is_set():
            return
        self._buffer.push(frame)
        self._kick()

    def end_response(self) -> None:
        """The current response has no more audio: pad and queue its last partial frame."""
        self._buffer.end_of_audio()
        self._kick()

    def new_response(self) -> None:
        """Start counting :attr:`played_ms` for a new response."""
        self._buffer.new_response()

    def interrupt(self) -> int:
        """Barge-in: drop every queued frame now; return ms played of the current response.

        Synchronous: the writer finds an empty queue at its next tick, so at most the frame
        already handed to the socket is heard after this call.
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
        self._local_hangup = True
        self._end_requested.set()
        await self.closed.wait()

    # ---- internals ----------------------------------------------------------------------

    def _deliver(self, item: Incoming | None) -> None:
        if item is not None and len(self._incoming) >= INCOMING_LIMIT:
            self._incoming.popleft()
            self.dropped_incoming += 1
        self._incoming.append(item)
        self._incoming_ready.set()

    def _end(self, reason: str) -> None:
        if not self.close_reason:
            self.close_reason = reason
        self._end_requested.set()

    async def _read_loop(self) -> None:
        decoder = codec.Decoder()
        while True:
            try:
                data = await self._reader.read(READ_CHUNK)
            except (ConnectionError, OSError):
                self._end("connection_lost")
                return
            if not data:
                self._end("remote_hangup")
                return
            for message in decoder.feed(data):
                match message:
                    case codec.Audio(frame):
                        self._on_audio(frame)
                    case codec.Dtmf():
                        self._deliver(message)
                    case codec.Hangup():
                        self._end("remote_hangup")
                        return
                    case codec.Error(code):
                        log.warning("call %s: peer sent error %s", self.call_id, code.hex())
                        self._end("remote_error")
                        return
                    case codec.Uuid():
                        decoder.error = codec.ProtocolError("second UUID message in one call")
                        break
            if decoder.error is not None:
                log.warning(
                    "call %s: malformed AudioSocket stream: %s", self.call_id, decoder.error
                )
                self._end("protocol_error")
                return

    def _on_audio(self, frame: AudioFrame) -> None:
        if frame.rate != self.wire_rate and not len(self._buffer) and not self._buffer.played_ms:
            self.wire_rate = frame.rate
            self._buffer = PlayoutBuffer(frame.rate)
        if self._recorder is not None:
            self._recorder.caller.write(frame)
        self._deliver(frame)

    def _kick(self) -> None:
        """Wake the writer; an idle one has its first frame sent here and now.

        Waiting for the writer task to be scheduled would add a loop iteration (or more, if
        other callbacks are ready) to the start of every response; the rest of the response
        is paced by the writer from the deadline this first frame sets.
        """
        if self._writer_idle and not self._end_requested.is_set():
            frame = self._buffer.pop()
            if frame is not None:
                self._writer_idle = False
                self._send(frame)
        self._wake.set()

    def _send(self, frame: bytes) -> bool:
        """Write one frame on its deadline (restarting a lost schedule); False if closed."""
        if self._writer.transport.is_closing():
            self._end("connection_lost")  # the peer reset the socket; the reader may not know yet
            return False
        now = self._loop.time()
        if self._deadline is None or now - self._deadline > MAX_LAG_S:
            self._deadline = now
        self._writer.write(codec.audio(frame, self._buffer.wire_rate))
        if self._recorder is not None:
            self._recorder.agent.write(AudioFrame(frame, self._buffer.wire_rate))
        if self.send_times is not None:
            self.send_times.append((self._deadline, now))
        self._deadline += FRAME_S
        return True

    async def _pace(self) -> None:
        """Sleep until the next frame's deadline, if one is set and not yet reached."""
        if self._deadline is None:
            return
        delay = self._deadline - self._loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _write_loop(self) -> None:
        while True:
            frame = self._buffer.pop()
            if frame is None:
                self._deadline = None
                self._wake.clear()
                self._writer_idle = True
                try:
                    await self._wake.wait()
                finally:
                    self._writer_idle = False
                await self._pace()  # _kick may have sent the first frame already
                continue
            if not self._send(frame):
                return
            if self._writer.transport.get_write_buffer_size() > 64 * 1024:
                await self._writer.drain()
            await self._pace()

    async def run(self) -> None:
        """Serve the call until it ends; always closes the socket and sets :attr:`closed`."""
        tasks = [
            asyncio.create_task(self._read_loop(), name=f"audiosocket-read-{self.call_id}"),
            asyncio.create_task(self._write_loop(), name=f"audiosocket-write-{self.call_id}"),
        ]
        for task in tasks:
            task.add_done_callback(self._task_done)
        try:
            await self._end_requested.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._close_socket()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            if isinstance(exc, ConnectionError | OSError):
                self._end("connection_lost")
            else:
                log.error("call %s: media task failed", self.call_id, exc_info=exc)
                self._end("internal_error")

    async def _close_socket(self) -> None:
        if self._local_hangup and not self.close_reason:
            self.close_reason = "local_hangup"
        if not self.close_reason:
            self.close_reason = "server_closed"
        try:
            if (
                self.close_reason in ("local_hangup", "server_closed", "abandoned")
                and not self._writer.is_closing()
            ):
                self._writer.write(codec.encode(codec.Hangup()))
                await asyncio.wait_for(self._writer.drain(), 1.0)
        except (ConnectionError, OSError, TimeoutError):
            pass
        self._writer.close()
        try:
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)
        except (ConnectionError, OSError, TimeoutError):
            pass
        if self._recorder is not None:
            self._recorder.close()
        self._buffer.clear()
        self.closed.set()
        self._deliver(None)
