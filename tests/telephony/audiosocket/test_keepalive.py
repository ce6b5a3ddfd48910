"""Keep-alive: a live call sends a 20 ms frame every 20 ms, silence when nothing is queued."""

import asyncio
import time
import uuid

from telephony.audio import AudioFrame
from telephony.audiosocket import AudioSocketClient, AudioSocketServer, codec

FRAME = 320


async def _call(server):
    """A connected call: (the Asterisk side, the server's session)."""
    host, port = server.address
    call_id = str(uuid.uuid4())
    client = await AudioSocketClient.connect(host, port, call_id)
    return client, await server.accept(call_id, timeout=2)


async def _frames_for(client, seconds):
    """(arrival time, pcm) of every audio frame the client receives for ``seconds``."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            messages = await asyncio.wait_for(client.receive(), left)
        except TimeoutError:
            break
        got += [(time.monotonic(), m.frame.pcm) for m in messages if isinstance(m, codec.Audio)]
    return got


async def test_an_idle_call_sends_silence_every_20ms():
    async with AudioSocketServer(trace=True) as server:
        client, session = await _call(server)
        frames = await _frames_for(client, 1.0)
        # 50 a second (a frame or two either side for the window's edges and scheduling)
        assert 47 <= len(frames) <= 52
        assert {pcm for _, pcm in frames} == {bytes(FRAME)}
        gaps = [b[0] - a[0] for a, b in zip(frames, frames[1:], strict=False)]
        assert max(gaps) < 0.1  # never anything like AudioSocket()'s 2 s of nothing
        assert session.silence_frames >= len(frames)
        assert len(session.send_times) == 0  # keep-alive is not traced as audio
        await client.close()


async def test_a_response_interrupts_the_silence_at_once_and_silence_resumes_after_it():
    async with AudioSocketServer(trace=True) as server:
        client, session = await _call(server)
        await asyncio.sleep(0.1)
        speech = bytes(range(256)) * 5  # 1,280 bytes: 4 frames, none of them silent
        await session.play(AudioFrame(speech, 8000))
        assert len(session.send_times) == 1  # the first frame left inside play()
        frames = [pcm for _, pcm in await _frames_for(client, 0.5)]
        start = next(i for i, pcm in enumerate(frames) if pcm != bytes(FRAME))
        assert b"".join(frames[start : start + 4]) == speech
        assert frames[start + 4 :] and set(frames[start + 4 :]) == {bytes(FRAME)}
        assert set(frames[:start]) == {bytes(FRAME)}
        await client.close()


async def test_keepalive_can_be_turned_off():
    async with AudioSocketServer(keepalive=False) as server:
        client, _ = await _call(server)
        assert await _frames_for(client, 0.3) == []
        await client.close()


async def test_a_response_arriving_slower_than_it_plays_is_not_cut_with_silence():
    async with AudioSocketServer() as server:
        client, session = await _call(server)
        voice = b"\x01\x01" * 250  # 500 bytes: a frame and a part of the next
        for _ in range(4):  # 2,000 bytes in chunks 60 ms apart: it plays faster than it comes
            await session.play(AudioFrame(voice, 8000))
            await asyncio.sleep(0.06)
        session.end_response()
        frames = [pcm for _, pcm in await _frames_for(client, 0.6)]
        start = next(i for i, pcm in enumerate(frames) if pcm != bytes(FRAME))
        spoken = frames[start : start + 7]
        assert all(pcm != bytes(FRAME) for pcm in spoken)  # no silence cut into the words
        assert b"".join(spoken)[:2000] == voice * 4
        await client.close()
