"""Pacing of real calls through the server's shared pacer (loopback sockets, real loop clock).

Assertions are structural, read from each session's ``send_times`` trace: deadlines on each
call's own 20 ms grid, restarts, ordering, frames sent while another call is blocked. None of
them bounds how late a frame may be (bench/media.py measures that).
"""

import asyncio
import socket
import time
import uuid

import numpy as np

from telephony.audio import AudioFrame
from telephony.audiosocket import AudioSocketClient, AudioSocketServer, codec
from telephony.audiosocket.pacer import FRAME_S, MAX_LAG_S

FRAME = 320


async def _connect(server, **kwargs):
    call_id = str(uuid.uuid4())
    host, port = server.address
    client = await AudioSocketClient.connect(host, port, call_id, **kwargs)
    return client, await server.accept(call_id, timeout=2)


async def _until(condition):
    """Poll ``condition`` until true, for at most 5 s (a wait, not a timing assertion)."""
    async with asyncio.timeout(5.0):
        while not condition():  # noqa: ASYNC110 - polls a trace the server appends to
            await asyncio.sleep(0.005)


def _runs(send_times):
    """Split a trace into runs: frames whose deadlines follow each other by exactly 20 ms."""
    runs = [[send_times[0]]]
    for previous, current in zip(send_times, send_times[1:], strict=False):
        if abs(current[0] - previous[0] - FRAME_S) < 1e-9:
            runs[-1].append(current)
        else:
            runs.append([current])
    return runs


def _restarts_only(runs):
    """Every run after the first began because the loop stalled for more than MAX_LAG_S."""
    return all(
        run[0][0] - (prev[-1][0] + FRAME_S) > MAX_LAG_S
        for prev, run in zip(runs, runs[1:], strict=False)
    )


async def test_calls_share_one_pacer_and_keep_their_own_phases(server):
    a_client, a = await _connect(server)
    b_client, b = await _connect(server)
    await a.play(AudioFrame(bytes(FRAME * 15), 8000))
    await asyncio.sleep(0.007)
    await b.play(AudioFrame(bytes(FRAME * 15), 8000))
    await _until(lambda: len(a.send_times) == 15 and len(b.send_times) == 15)
    for session in (a, b):
        assert _restarts_only(_runs(session.send_times))  # one run unless the machine stalled
    # b's grid starts when b's audio came, not on a's ticks: the calls do not burst together.
    offset = (b.send_times[0][0] - a.send_times[0][0]) / FRAME_S
    assert abs(offset - round(offset)) > 1e-6
    assert server.pacer is a._pacer is b._pacer
    await a_client.close()
    await b_client.close()


async def test_a_stalled_loop_restarts_the_schedule_instead_of_bursting(server):
    client, session = await _connect(server)
    await session.play(AudioFrame(bytes(FRAME * 25), 8000))
    await _until(lambda: len(session.send_times) >= 3)
    stalled_from = len(session.send_times)
    time.sleep(MAX_LAG_S + 0.1)  # noqa: ASYNC251 - the stall under test: the loop is blocked
    resumed_at = time.monotonic()
    await _until(lambda: len(session.send_times) == 25)
    times = list(session.send_times)
    restart = next(
        i for i in range(stalled_from, 25) if times[i][0] - times[i - 1][0] > FRAME_S + 1e-9
    )
    # The first frame after the stall starts a new grid (no frame carries a deadline from
    # the stalled interval), and the frames after it follow that grid: no backlog burst.
    assert times[restart][0] >= resumed_at - 1e-3
    assert _restarts_only(_runs(times))
    await client.close()


async def test_a_peer_that_stops_reading_does_not_delay_the_other_calls():
    async with AudioSocketServer(trace=True, send_buffer=8192) as server:
        await _slow_reader_scenario(server)


async def _slow_reader_scenario(server):
    host, port = server.address
    # The slow call: small socket buffers both ends, and it stops reading. 192 kHz frames
    # (7,680 bytes each) fill the server's 64 KiB write buffer in a fraction of a second.
    slow_sock = socket.socket()
    slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    slow_sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(slow_sock, (host, port))
    slow_id = str(uuid.uuid4())
    slow_sock.send(codec.encode(codec.Uuid(uuid.UUID(slow_id))) + codec.audio(bytes(7680), 192000))
    slow = await server.accept(slow_id, timeout=2)
    await _until(lambda: slow.wire_rate == 192000)
    good_client, good = await _connect(server)

    samples = np.arange(7680 // 2 * 60, dtype="<i2")
    await slow.play(AudioFrame(samples.tobytes(), 192000))  # 60 frames, 1.2 s
    await good.play(AudioFrame(bytes(FRAME * 200), 8000))  # 4 s
    await _until(lambda: slow.paused)
    slow_sent, good_sent = len(slow.send_times), len(good.send_times)
    await _until(lambda: len(good.send_times) >= good_sent + 10)
    assert slow.paused and len(slow.send_times) == slow_sent  # held, not written, not dropped
    assert slow.queued_ms == (60 - slow_sent) * 20
    # The other call kept sending on its grid while the slow one waited.
    assert _restarts_only(_runs(list(good.send_times)[good_sent - 1 :]))

    # The peer reads again: the held frames follow, complete and in order (between the
    # keep-alive frames of silence sent before and after them).
    decoder, pcm = codec.Decoder(), b""
    loop = asyncio.get_running_loop()
    while len(pcm) < len(samples.tobytes()):
        data = await asyncio.wait_for(loop.sock_recv(slow_sock, 65536), 5)
        for message in decoder.feed(data):
            if message.frame.pcm.strip(b"\0") or pcm:
                pcm += message.frame.pcm
    assert pcm[: len(samples.tobytes())] == samples.tobytes()
    assert not slow.paused and slow.queued_ms == 0
    slow_sock.close()
    await good_client.close()


async def test_a_hangup_message_from_the_peer_ends_the_call(server):
    client, session = await _connect(server)
    client.send_audio(AudioFrame(bytes(FRAME), 8000))
    client.send_raw(codec.encode(codec.Hangup()))
    await client.drain()
    items = [item async for item in session.incoming()]
    assert items == [AudioFrame(bytes(FRAME), 8000)]
    assert session.close_reason == "remote_hangup"
    assert await client.receive() == []  # closed without a hang-up message back
    await client.close()


async def test_play_after_the_call_ended_is_ignored(server):
    client, session = await _connect(server)
    await client.close()
    await asyncio.wait_for(session.closed.wait(), 2)
    await session.play(AudioFrame(bytes(FRAME * 5), 8000))
    session.end_response()
    assert session.queued_ms == 0
    assert len(session.send_times) == 0
    assert len(server.pacer) == 0
