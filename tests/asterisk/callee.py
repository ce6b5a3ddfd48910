"""The far end of the test rig's PJSIP loop: what the called phone "says".

``[callees]`` hands every answered ``3xxx`` number to this AudioSocket server with the number
as the last digits of the UUID; the number picks the behaviour. It runs on its own thread and
event loop so that one Asterisk can serve a whole test module.

* ``3001`` a person: "Hello?" at once, then a live line (silence frames every 20 ms);
* ``3002`` a voicemail box: a 3 s greeting, a beep, then a live line;
* ``3003`` a silent phone: silence frames every 20 ms (a live line, nobody speaks);
* ``3004`` hangs up 600 ms after answering (during AMD);
* ``3005`` a line with silence suppression: sends no frame at all (no RTP) until hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

from telephony.audio.simspeech import encode
from telephony.audiosocket import codec
from telephony.sim.callee import BEEP, greeting_audio

FRAME = 320
GREETING = "Hi, you have reached Sam. Leave a message."
OPENINGS = {
    "3001": encode("Hello?"),
    "3002": greeting_audio(GREETING, 3000) + BEEP,
    "3003": b"",
}
"""What a person, a voicemail box and a silent phone send as they answer (then silence)."""


class CalleeServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.connections: list[tuple[str, float]] = []
        """``(behaviour, connected at)`` of every connection."""
        self.received: dict[str, int] = {}
        """Audio frames received, by UUID."""
        self.voiced: dict[str, int] = {}
        """Received frames that were not silence (someone spoke to the callee), by UUID."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("callee server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._call, self.host, 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _call(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readexactly(3 + 16)
            call = head[3:].hex()
            behaviour = call[-4:]
            self.connections.append((behaviour, time.monotonic()))
            counter = asyncio.create_task(self._count(reader, call))
            try:
                await self._behave(behaviour, writer, counter)
            finally:
                counter.cancel()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _count(self, reader: asyncio.StreamReader, call: str) -> None:
        decoder = codec.Decoder()
        while data := await reader.read(65536):
            frames = [m for m in decoder.feed(data) if isinstance(m, codec.Audio)]
            self.received[call] = self.received.get(call, 0) + len(frames)
            voiced = sum(1 for m in frames if max(m.frame.pcm) > 8)  # above line noise
            self.voiced[call] = self.voiced.get(call, 0) + voiced

    async def _behave(
        self, behaviour: str, writer: asyncio.StreamWriter, counter: asyncio.Task[None]
    ) -> None:
        if behaviour == "3004":
            await self._send(writer, b"", counter, until=0.6)
            return
        if behaviour == "3005":
            await counter  # nothing to say, ever: wait until Asterisk closes the socket
            return
        await self._send(writer, OPENINGS.get(behaviour, b""), counter)

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        pcm: bytes,
        counter: asyncio.Task[None],
        until: float | None = None,
    ) -> None:
        """``pcm`` then silence, one frame every 20 ms, until the peer hangs up (or ``until``)."""
        loop = asyncio.get_running_loop()
        start = deadline = loop.time()
        offset = 0
        while not counter.done() and (until is None or loop.time() - start < until):
            chunk = pcm[offset : offset + FRAME]
            offset += FRAME
            writer.write(codec.audio(chunk + bytes(FRAME - len(chunk)), 8000))
            await writer.drain()
            deadline += 0.020
            await asyncio.sleep(max(0.0, deadline - loop.time()))
