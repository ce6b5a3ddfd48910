"""bench/callers.py's simulated Asterisk channels speak AudioSocket as Asterisk does, on the
reference load generator's script, and count what they receive.

``bench/call.py --harness lean`` reads its caller figures (frames received, arrival jitter,
flush after a barge-in) from these callers, so each of those must be what arrived.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import call as call_bench  # noqa: E402
import callers  # noqa: E402

from telephony.audiosocket import codec  # noqa: E402

SPEECH = codec.audio(call_bench.SPEECH)
SILENCE = codec.audio(call_bench.SILENCE)


async def until(changed: asyncio.Event, predicate) -> None:  # type: ignore[no-untyped-def]
    while not predicate():
        changed.clear()
        await changed.wait()


class Asterisk(asyncio.Protocol):
    """The server end of one caller's socket: the messages it received, decoded."""

    def __init__(self, lines: list[Asterisk], changed: asyncio.Event) -> None:
        self.changed = changed
        self.messages: list[codec.Message] = []
        self.decoder = codec.Decoder()
        self.ended = asyncio.Event()
        self.transport: asyncio.Transport | None = None
        lines.append(self)

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.messages += self.decoder.feed(data)
        self.changed.set()

    def connection_lost(self, exc) -> None:  # type: ignore[no-untyped-def]
        self.ended.set()


def test_each_callers_script_is_the_reference_load_generators() -> None:
    scripts = callers.scripts(7, call_bench._speaking, call_bench.CYCLE_S, SPEECH, SILENCE)
    for i, script in enumerate(scripts):
        offset = call_bench.CYCLE_S * i / 7
        assert len(script) == 900  # 18 s: three 6 s cycles, the third with the barge-in
        for tick in range(len(script)):
            spoken = call_bench._speaking(tick * 0.020 + offset)
            assert script[tick] is (SPEECH if spoken else SILENCE), (i, tick)
    assert sum(f is SPEECH for f in scripts[0]) == 60 + 60 + 60 + 40  # 1.2 s x 3 + 0.8 s


async def test_callers_send_their_uuid_then_their_script_every_20_ms_then_hang_up() -> None:
    loop = asyncio.get_running_loop()
    lines: list[Asterisk] = []
    changed = asyncio.Event()
    server = await loop.create_server(lambda: Asterisk(lines, changed), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # Each caller's own pattern of speech and silence, so a frame sent out of turn shows.
    scripts = [tuple(SPEECH if k % (i + 2) == 0 else SILENCE for k in range(900)) for i in range(3)]
    group = [callers.LeanCaller(i, scripts[i], capacity=10) for i in range(3)]
    for caller in group:
        await loop.create_connection(lambda c=caller: c, "127.0.0.1", port)
    clock = callers.Clock(group, phases=2, start=time.monotonic())
    await until(changed, lambda: len(lines) == 3 and min(len(x.messages) for x in lines) > 10)
    clock.stop()
    for caller in group:
        caller.hang_up()
    await asyncio.gather(*(line.ended.wait() for line in lines))
    server.close()
    by_id = {}
    for line in lines:
        first, *frames, last = line.messages
        assert isinstance(first, codec.Uuid)
        assert isinstance(last, codec.Hangup)
        by_id[str(first.call_id)] = frames
    for caller in group:
        frames = by_id[caller.call_id]
        sent = [codec.audio(f.frame.pcm) for f in frames]
        assert sent == list(caller.script[: len(sent)])
    assert clock.behind >= 0.0


def test_a_caller_counts_stamps_and_tells_agent_audio_from_keep_alive_silence() -> None:
    caller = callers.LeanCaller(0, (SILENCE,), capacity=4)
    caller.transport = None
    agent = codec.audio(b"\x01\x02" * 160)
    stream = SILENCE + agent + SILENCE + codec.encode(codec.Dtmf("5")) + agent + agent
    callers.Clock.stamping = True
    try:
        for at in range(0, len(stream), 100):  # frames cut across reads
            caller.data_received(stream[at : at + 100])
    finally:
        callers.Clock.stamping = False
    assert caller.frames == 5
    assert caller.n == 4 and caller.overflow == 1  # the capacity holds 4 stamps
    assert caller.n_audio == 2
    assert all(t > 0 for t in caller.stamps[:4])
    caller.data_received(SILENCE)  # not stamping: counted only
    assert (caller.frames, caller.n) == (6, 4)


async def test_a_hang_up_from_the_server_ends_the_caller_as_asterisk_ends_the_channel() -> None:
    loop = asyncio.get_running_loop()
    lines: list[Asterisk] = []
    changed = asyncio.Event()
    server = await loop.create_server(lambda: Asterisk(lines, changed), "127.0.0.1", 0)
    caller = callers.LeanCaller(0, (SILENCE,), capacity=4)
    await loop.create_connection(lambda: caller, "127.0.0.1", server.sockets[0].getsockname()[1])
    await until(changed, lambda: bool(lines and lines[0].messages))
    assert lines[0].transport is not None
    lines[0].transport.write(SILENCE + codec.encode(codec.Hangup()))
    await lines[0].ended.wait()
    server.close()
    assert caller.closed and caller.hung_up_by_server and caller.frames == 1
    assert uuid.UUID(caller.call_id) == lines[0].messages[0].call_id  # type: ignore[union-attr]
