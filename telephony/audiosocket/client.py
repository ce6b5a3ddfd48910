"""The calling side of AudioSocket (what Asterisk does): used by the simulated PBX and tests.

It connects, sends the UUID first, then sends audio/DTMF when told to, and hangs up by closing
the socket exactly like Asterisk (Asterisk never sends the hang-up kind).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from telephony.audio.frames import AudioFrame
from telephony.audiosocket import codec


class AudioSocketClient:
    """One outgoing AudioSocket connection for call ``call_id``."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, call_id: str
    ) -> None:
        self.call_id = call_id
        self._reader = reader
        self._writer = writer
        self._decoder = codec.Decoder()
        self.remote_hangup = False

    @classmethod
    async def connect(
        cls, host: str, port: int, call_id: str, connect_timeout: float = 2.0
    ) -> AudioSocketClient:
        """Open the socket (Asterisk waits at most 2 s) and send the UUID message."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), connect_timeout
        )
        client = cls(reader, writer, call_id)
        writer.write(codec.encode(codec.Uuid(uuid.UUID(call_id))))
        await writer.drain()
        return client

    def send_audio(self, frame: AudioFrame) -> None:
        self._writer.write(codec.encode(codec.Audio(frame)))

    def send_dtmf(self, digit: str) -> None:
        self._writer.write(codec.encode(codec.Dtmf(digit)))

    def send_raw(self, data: bytes) -> None:
        self._writer.write(data)

    async def drain(self) -> None:
        await self._writer.drain()

    async def receive(self) -> list[codec.Message]:
        """Messages from the server; an empty list means the server closed the socket.

        A hang-up message from the server is returned and also sets :attr:`remote_hangup`.
        """
        while True:
            data = await self._reader.read(65536)
            if not data:
                self.remote_hangup = True
                return []
            messages = self._decoder.feed(data)
            if self._decoder.error is not None:
                raise self._decoder.error
            if any(isinstance(m, codec.Hangup) for m in messages):
                self.remote_hangup = True
            if messages:
                return messages

    async def close(self) -> None:
        """Hang up the way Asterisk does: close the socket."""
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
