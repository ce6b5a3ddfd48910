"""AudioSocket: the codec and the paced asyncio server that carries each call's audio.

Media API (what the bridge uses)::

    server = AudioSocketServer(host="127.0.0.1", port=0)   # or: async with AudioSocketServer()
    await server.start()
    server.address_text                       # "127.0.0.1:PORT" for VOXFLOW_AUDIOSOCKET
    server.expect(call_id)                    # optional: before originating, marks it outbound
    session = await server.accept(call_id, timeout=30)   # the call whose UUID is call_id
    async for session in server.sessions(): ...          # inbound calls (unexpected UUIDs)

    async for item in session.incoming():     # AudioFrame (caller audio) or Dtmf(digit);
        ...                                   # the iteration ends when the call ends
    await session.play(frame)                 # any rate/size; re-framed to 20 ms at the wire rate
    session.end_response()                    # pad + queue the last partial frame of a response
    session.new_response()                    # reset played_ms for a new provider response
    played = session.interrupt()              # barge-in: queue dropped now; ms actually played
    session.played_ms                         # ms of the current response sent so far
    await session.hangup()                    # hang-up message + close; returns once closed
    await session.closed.wait(); session.close_reason

Frames are paced at 20 ms on absolute monotonic deadlines (each call keeps its own phase) by
one :class:`Pacer` per server with a single timer; each connection is an asyncio protocol
whose reads feed the call's incremental decoder directly (no reader task per call), then let
the pacer send what has come due, so outgoing audio never waits behind a burst of reads. The
worker runs all this on uvloop when it is installed (``runtime/eventloop.py``).
"""

from telephony.audiosocket.client import AudioSocketClient
from telephony.audiosocket.codec import Decoder, Dtmf, ProtocolError, decode_all, encode
from telephony.audiosocket.pacer import Pacer
from telephony.audiosocket.server import AudioSocketServer, canonical_call_id
from telephony.audiosocket.session import Incoming, MediaSession

__all__ = [
    "AudioSocketClient",
    "AudioSocketServer",
    "Decoder",
    "Dtmf",
    "Incoming",
    "MediaSession",
    "Pacer",
    "ProtocolError",
    "canonical_call_id",
    "decode_all",
    "encode",
]
