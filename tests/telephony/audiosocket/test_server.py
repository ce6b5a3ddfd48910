import asyncio
import uuid

import numpy as np

from telephony.audio import AudioFrame
from telephony.audiosocket import AudioSocketClient, Dtmf, codec
from telephony.audiosocket.session import MAX_LAG_S

FRAME = 320


async def _connect(server, call_id=None):
    call_id = call_id or str(uuid.uuid4())
    host, port = server.address
    return call_id, await AudioSocketClient.connect(host, port, call_id)


async def _collect_audio(client, n):
    """Receive until n audio payloads (or the server hangs up)."""
    got = []
    while len(got) < n:
        messages = await client.receive()
        if not messages:
            break
        got += [m.frame.pcm for m in messages if isinstance(m, codec.Audio)]
        if client.remote_hangup:
            break
    return got


async def test_accept_returns_a_session_that_arrived_before_anyone_waited(server):
    call_id, client = await _connect(server)
    await asyncio.sleep(0.05)
    session = await server.accept(call_id, timeout=2)
    assert session.call_id == call_id
    await client.close()
    await asyncio.wait_for(session.closed.wait(), 2)
    assert session.close_reason == "remote_hangup"


async def test_accept_waits_for_a_call_that_connects_later(server):
    call_id = str(uuid.uuid4())
    waiter = asyncio.create_task(server.accept(call_id.upper(), timeout=2))
    await asyncio.sleep(0.02)
    _, client = await _connect(server, call_id)
    session = await waiter
    assert session.call_id == call_id
    await client.close()


async def test_unexpected_uuids_are_offered_as_inbound_sessions(server):
    expected = str(uuid.uuid4())
    server.expect(expected)
    _, c1 = await _connect(server, expected)
    inbound_id, c2 = await _connect(server)
    iterator = server.sessions()
    session = await asyncio.wait_for(anext(iterator), 2)
    assert session.call_id == inbound_id
    assert (await server.accept(expected, timeout=1)).call_id == expected
    await iterator.aclose()
    await c1.close()
    await c2.close()


async def test_forget_undoes_expect_for_a_call_that_never_connects(server):
    never, waited = str(uuid.uuid4()), str(uuid.uuid4())
    server.expect(never)
    waiter = asyncio.create_task(server.accept(waited, timeout=2))
    await asyncio.sleep(0)
    assert server.expected == 2
    server.forget(never.upper())
    server.forget(waited)  # someone is waiting for it: kept
    assert server.expected == 1
    _, client = await _connect(server, waited)
    assert (await waiter).call_id == waited and server.expected == 0
    await client.close()


async def test_incoming_yields_audio_and_dtmf_in_order_and_ends_on_hangup(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    for i in range(5):
        client.send_audio(AudioFrame(bytes([i]) * FRAME, 8000))
    client.send_dtmf("9")
    await client.drain()
    await client.close()
    items = [item async for item in session.incoming()]
    assert [item.pcm[0] for item in items[:5]] == [0, 1, 2, 3, 4]
    assert items[5] == Dtmf("9")
    assert len(items) == 6


async def test_a_cancelled_reader_loses_nothing_and_every_reader_sees_the_end(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    cancelled = asyncio.create_task(anext(session.incoming()))
    await asyncio.sleep(0.02)  # it is waiting for an item
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    first, second = session.incoming(), session.incoming()
    waiting = asyncio.create_task(anext(first))
    await asyncio.sleep(0.02)
    client.send_audio(AudioFrame(b"\x07" * FRAME, 8000))
    await client.drain()
    assert (await asyncio.wait_for(waiting, 2)).pcm[:1] == b"\x07"  # not taken by the cancelled one
    ends = [asyncio.create_task(anext(it, "ended")) for it in (first, second)]
    await asyncio.sleep(0.02)
    await client.close()
    assert await asyncio.wait_for(asyncio.gather(*ends), 2) == ["ended", "ended"]


async def test_local_hangup_sends_the_hangup_kind_and_closes(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    await session.hangup()
    assert session.close_reason == "local_hangup"
    messages = await client.receive()
    assert messages == [codec.Hangup()]
    assert await client.receive() == []


async def test_played_audio_is_reframed_to_20ms_and_sent_in_order(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    pcm = np.arange(160 * 10, dtype="<i2").tobytes()  # 200 ms, sample values 0..1599
    await session.play(AudioFrame(pcm[:1000], 8000))
    await session.play(AudioFrame(pcm[1000:], 8000))
    got = await _collect_audio(client, 10)
    assert [len(p) for p in got] == [FRAME] * 10
    assert b"".join(got) == pcm
    await client.close()


async def test_writer_is_paced_on_absolute_20ms_deadlines(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    await session.play(AudioFrame(bytes(FRAME * 25), 8000))
    await _collect_audio(client, 25)
    times = session.send_times
    assert len(times) == 25
    # Each deadline is the previous one + 20 ms: lateness never shifts the schedule (no
    # drift). The only exception is a restart after the loop stalled for more than
    # MAX_LAG_S, where the writer resumes at "now" instead of bursting to catch up.
    for (d0, _), (d1, sent1) in zip(times, times[1:], strict=False):
        on_grid = abs(d1 - (d0 + 0.020)) < 1e-9
        restarted = d1 == sent1 and d1 - (d0 + 0.020) > MAX_LAG_S
        assert on_grid or restarted
    # A frame is never sent before its deadline (1 ms for the loop clock's granularity).
    assert all(sent >= deadline - 0.001 for deadline, sent in times)
    await client.close()


async def test_an_idle_writer_sends_the_first_frame_of_a_response_within_play(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    await session.play(AudioFrame(bytes(FRAME * 3), 8000))
    # No loop iteration in between: the first frame left inside play() itself.
    assert len(session.send_times) == 1
    assert len(await _collect_audio(client, 3)) == 3
    await client.close()


async def test_interrupt_drops_the_queue_and_reports_ms_played(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    await session.play(AudioFrame(bytes(FRAME * 100), 8000))  # 2 s queued
    await _collect_audio(client, 5)
    played = session.interrupt()
    assert played == len(session.send_times) * 20
    assert 100 <= played < 2000
    assert session.queued_ms == 0
    sent_at_interrupt = len(session.send_times)
    await asyncio.sleep(0.1)
    assert len(session.send_times) == sent_at_interrupt  # nothing after the barge-in
    await client.close()


async def test_a_malformed_stream_ends_only_its_own_call(server):
    good_id, good = await _connect(server)
    bad_id, bad = await _connect(server)
    good_session = await server.accept(good_id, timeout=2)
    bad_session = await server.accept(bad_id, timeout=2)
    bad.send_raw(b"\x42\x00\x00")
    await bad.drain()
    await asyncio.wait_for(bad_session.closed.wait(), 2)
    assert bad_session.close_reason == "protocol_error"
    assert await bad.receive() == []  # closed without a hang-up message
    good.send_audio(AudioFrame(bytes(FRAME), 8000))
    await good.drain()
    item = await asyncio.wait_for(anext(good_session.incoming()), 2)
    assert item == AudioFrame(bytes(FRAME), 8000)
    assert not good_session.closed.is_set()
    await good.close()


async def test_connections_without_a_uuid_first_are_refused(server):
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(codec.audio(bytes(FRAME)))
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    assert server.rejected_connections == 1
    assert server.active() == {}


async def test_wire_rate_follows_the_callers_audio_kind(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    client.send_audio(AudioFrame(bytes(640), 16000))
    await client.drain()
    await anext(session.incoming())
    assert session.wire_rate == 16000
    await session.play(AudioFrame(bytes(960), 24000))
    session.end_response()
    messages = await client.receive()
    assert all(isinstance(m, codec.Audio) and m.frame.rate == 16000 for m in messages)
    await client.close()


async def test_server_close_hangs_up_every_call():
    from telephony.audiosocket import AudioSocketServer

    srv = AudioSocketServer()
    await srv.start()
    call_id, client = await _connect(srv)
    session = await srv.accept(call_id, timeout=2)
    await srv.close()
    assert session.close_reason == "server_closed"
    messages = []
    while not messages or messages[-1] != codec.Hangup():
        messages += await client.receive()
    # nothing but the keep-alive silence before the hang-up message
    assert all(not m.frame.pcm.strip(b"\0") for m in messages[:-1])


async def test_recording_captures_both_legs(tmp_path):
    import wave

    from telephony.audiosocket import AudioSocketServer

    async with AudioSocketServer(record_dir=tmp_path) as srv:
        call_id, client = await _connect(srv)
        session = await srv.accept(call_id, timeout=2)
        for _ in range(3):
            client.send_audio(AudioFrame(bytes(FRAME), 8000))
        await client.drain()
        for _ in range(3):
            await anext(session.incoming())
        await session.play(AudioFrame(bytes(FRAME * 2), 8000))
        assert len(await _collect_audio(client, 2)) == 2
        await session.play(AudioFrame(bytes(FRAME * 50), 8000))
        session.interrupt()  # interrupted audio was never sent, so it is not in the recording
        await session.hangup()
    with wave.open(str(tmp_path / f"{call_id}.caller.wav")) as w:
        assert w.getnframes() == 480
    with wave.open(str(tmp_path / f"{call_id}.agent.wav")) as w:
        assert w.getnframes() == 320


async def test_a_call_arriving_after_accept_gave_up_is_hung_up_not_taken_as_inbound(server):
    call_id = str(uuid.uuid4())
    try:
        await server.accept(call_id, timeout=0.05)
    except TimeoutError:
        pass
    else:
        raise AssertionError("accept() should have timed out")
    _, client = await _connect(server, call_id)
    assert await asyncio.wait_for(client.receive(), 2) == [codec.Hangup()]
    assert server._inbound.empty()


async def test_a_batched_reader_wakes_per_chunk_but_at_once_for_a_digit_or_the_end(server):
    call_id, client = await _connect(server)
    session = await server.accept(call_id, timeout=2)
    reader = session.incoming(batch=2)
    first = asyncio.create_task(anext(reader))
    client.send_audio(AudioFrame(b"\x01" * FRAME, 8000))
    await client.drain()
    await asyncio.sleep(0.05)
    assert not first.done()  # one frame of a two-frame chunk: still waiting
    client.send_audio(AudioFrame(b"\x02" * FRAME, 8000))
    await client.drain()
    assert (await asyncio.wait_for(first, 2)).pcm[:1] == b"\x01"
    assert (await asyncio.wait_for(anext(reader), 2)).pcm[:1] == b"\x02"
    client.send_audio(AudioFrame(b"\x03" * FRAME, 8000))
    client.send_dtmf("5")  # wakes the reader with the lone frame queued before it
    await client.drain()
    assert (await asyncio.wait_for(anext(reader), 2)).pcm[:1] == b"\x03"
    assert await asyncio.wait_for(anext(reader), 2) == Dtmf("5")
    client.send_audio(AudioFrame(b"\x04" * FRAME, 8000))
    await client.drain()
    await client.close()  # the end wakes it too, after the lone frame
    assert (await asyncio.wait_for(anext(reader), 2)).pcm[:1] == b"\x04"
    assert await asyncio.wait_for(anext(reader, "ended"), 2) == "ended"
