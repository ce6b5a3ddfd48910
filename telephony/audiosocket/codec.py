"""AudioSocket wire codec: pure functions over bytes, no sockets.

Frame layout (docs/protocols.md, "AudioSocket frames"): ``kind`` (1 byte), ``length`` (u16
big-endian), payload.
Kinds: 0x00 hang-up, 0x01 UUID (16 raw bytes), 0x03 DTMF (one ASCII byte),
0x10..0x18 signed-linear audio at 8/12/16/24/32/44.1/48/96/192 kHz, 0xFF error.
"""

from __future__ import annotations

import functools
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from telephony.audio.frames import AudioFrame, checked_frame

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_DTMF = 0x03
KIND_ERROR = 0xFF

AUDIO_KIND_RATES: dict[int, int] = {
    0x10: 8000,
    0x11: 12000,
    0x12: 16000,
    0x13: 24000,
    0x14: 32000,
    0x15: 44100,
    0x16: 48000,
    0x17: 96000,
    0x18: 192000,
}
RATE_AUDIO_KINDS: dict[int, int] = {rate: kind for kind, rate in AUDIO_KIND_RATES.items()}
DTMF_DIGITS = frozenset(b"0123456789*#ABCD")
HEADER = struct.Struct(">BH")
MAX_PAYLOAD = 0xFFFF


class ProtocolError(ValueError):
    """The byte stream is not valid AudioSocket; the call that sent it must end."""


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class Uuid:
    call_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class Audio:
    frame: AudioFrame


@dataclass(frozen=True, slots=True)
class Error:
    code: bytes


Message = Hangup | Uuid | Dtmf | Audio | Error


def encode(message: Message) -> bytes:
    """The wire bytes of one message."""
    match message:
        case Hangup():
            return HEADER.pack(KIND_HANGUP, 0)
        case Uuid(call_id):
            return HEADER.pack(KIND_UUID, 16) + call_id.bytes
        case Dtmf(digit):
            raw = digit.encode("ascii")
            if len(raw) != 1 or raw[0] not in DTMF_DIGITS:
                raise ValueError(f"not a DTMF digit: {digit!r}")
            return HEADER.pack(KIND_DTMF, 1) + raw
        case Audio(frame):
            kind = RATE_AUDIO_KINDS.get(frame.rate)
            if kind is None:
                raise ValueError(f"AudioSocket has no audio kind for {frame.rate} Hz")
            if not 0 < len(frame.pcm) <= MAX_PAYLOAD:
                raise ValueError(f"audio payload must be 1..65535 bytes, got {len(frame.pcm)}")
            return HEADER.pack(kind, len(frame.pcm)) + frame.pcm
        case Error(code):
            return HEADER.pack(KIND_ERROR, len(code)) + code
    raise TypeError(f"not an AudioSocket message: {message!r}")


def audio(pcm: bytes, rate: int = 8000) -> bytes:
    """Shortcut: the wire bytes of one audio message."""
    return audio_header(rate, len(pcm)) + pcm


@functools.lru_cache(maxsize=64)
def audio_header(rate: int, length: int) -> bytes:
    """The 3-byte header of an audio message of ``length`` bytes at ``rate`` (cached).

    The writer prepends it to every frame; a session sends one frame size at one rate, so
    it looks its header up once.
    """
    kind = RATE_AUDIO_KINDS.get(rate)
    if kind is None:
        raise ValueError(f"AudioSocket has no audio kind for {rate} Hz")
    if not 0 < length <= MAX_PAYLOAD or length % 2:
        raise ValueError(f"audio payload must be an even 2..65534 bytes, got {length}")
    return HEADER.pack(kind, length)


def _parse(kind: int, payload: bytes) -> Message:
    if kind == KIND_HANGUP:
        if payload:
            raise ProtocolError(f"hang-up message with a {len(payload)}-byte payload")
        return Hangup()
    if kind == KIND_UUID:
        if len(payload) != 16:
            raise ProtocolError(f"UUID message needs 16 bytes, got {len(payload)}")
        return Uuid(uuid.UUID(bytes=payload))
    if kind == KIND_DTMF:
        if len(payload) != 1 or payload[0] not in DTMF_DIGITS:
            raise ProtocolError(f"DTMF message with invalid payload {payload!r}")
        return Dtmf(chr(payload[0]))
    if kind == KIND_ERROR:
        return Error(payload)
    rate = AUDIO_KIND_RATES.get(kind)
    if rate is None:
        raise ProtocolError(f"unknown message kind 0x{kind:02x}")
    if not payload or len(payload) % 2:
        raise ProtocolError(f"audio message with {len(payload)} bytes (needs an even count >= 2)")
    return Audio(AudioFrame(payload, rate))


class Decoder:
    """Incremental decoder: feed whatever the socket returned, get whole messages back.

    A message split across reads is kept until complete. When a malformed message arrives,
    the messages before it are still returned and :attr:`error` is set; the stream cannot be
    resynchronised (there is no frame marker), so any further :meth:`feed` raises that error.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.error: ProtocolError | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Message]:
        """The messages completed by ``data`` (any bytes-like; it is not kept after return)."""
        messages: list[Message] = []
        self.feed_into(data, lambda frame: messages.append(Audio(frame)), messages.append)
        return messages

    def feed_into(
        self,
        data: bytes | bytearray | memoryview,
        on_audio: Callable[[AudioFrame], object],
        on_message: Callable[[Message], object],
    ) -> None:
        """Like :meth:`feed`, but hand each message over as it is decoded, in stream order.

        Audio goes to ``on_audio`` as a bare :class:`AudioFrame` (no :class:`Audio` wrapper,
        no list: the media server's per-frame path); every other message to ``on_message``.
        A callback may set :attr:`error` to stop the decoding there.
        """
        if self.error is not None:
            raise self.error
        buffer = self._buffer
        size = len(data)
        if not buffer and size > 3:  # the common read: exactly one whole audio message
            rate = AUDIO_KIND_RATES.get(data[0])
            if rate is not None and size & 1 and (data[1] << 8 | data[2]) == size - 3:
                on_audio(checked_frame(bytes(data[3:]), rate))
                return
        if buffer:
            buffer += data
            data = bytes(buffer)
            buffer.clear()
        elif type(data) is not bytes:
            data = bytes(data)  # one copy of the read; every slice below is then one copy too
        size = len(data)
        pos = 0
        while size - pos >= 3:
            kind = data[pos]
            end = pos + 3 + (data[pos + 1] << 8 | data[pos + 2])
            if end > size:
                break
            rate = AUDIO_KIND_RATES.get(kind)
            if rate is not None and end - pos > 3 and (end - pos) & 1:  # payload even, not empty
                on_audio(checked_frame(data[pos + 3 : end], rate))
            else:
                try:
                    message = _parse(kind, data[pos + 3 : end])
                except ProtocolError as exc:
                    self.error = exc
                    return  # the buffer is empty: nothing after this can be decoded
                on_message(message)
                if self.error is not None:
                    return
            pos = end
        if pos < size:
            buffer += data[pos:] if pos else data

    @property
    def pending(self) -> int:
        """Bytes of an incomplete message waiting for the rest."""
        return len(self._buffer)


def decode_all(data: bytes) -> list[Message]:
    """Decode a complete byte string (raises :class:`ProtocolError` on malformed input)."""
    decoder = Decoder()
    messages = decoder.feed(data)
    if decoder.error is not None:
        raise decoder.error
    if decoder.pending:
        raise ProtocolError(f"{decoder.pending} trailing bytes of an incomplete message")
    return messages
