"""The media path end to end over loopback TCP.

simulated PBX (AMI + AudioSocket client) → AudioSocket server → media session → a loopback
provider → back to the simulated callee.

Pacing is asserted structurally from the server's recorded send timestamps, not as a
benchmark: within a run (frames sent back to back) the writer's deadlines lie exactly on a 20 ms
grid, and no frame leaves before its deadline (tolerance: 1 ms for the loop clock). Every frame
sent is received by the callee, in order. These hold however loaded the machine is; how *late*
frames are is measured by bench/media.py.
"""

import asyncio
import uuid

from telephony.audio import AudioFrame
from telephony.audio.simspeech import SimSpeechDecoder, encode
from telephony.audiosocket import AudioSocketServer, MediaSession
from telephony.gateway import DialRequest
from telephony.sim import SimPBX, parse_scenarios

FRAME_S = 0.020


async def answering_provider(session: MediaSession, replies: list[str]) -> None:
    """Decode each caller utterance and answer it with an encoded reply."""
    decoder = SimSpeechDecoder(8000)
    async for item in session.incoming():
        if isinstance(item, AudioFrame):
            for text in decoder.feed(item.pcm):
                reply = f"You said: {text}"
                replies.append(reply)
                session.new_response()
                await session.play(AudioFrame(encode(reply, 24000), 24000))  # provider-rate audio
                session.end_response()


async def echo_provider(session: MediaSession) -> None:
    async for item in session.incoming():
        if isinstance(item, AudioFrame):
            await session.play(item)


def assert_paced(send_times, received_times):
    """Structural pacing checks (see the module docstring for the allowances)."""
    assert len(received_times) == len(send_times)  # frame i sent ↔ frame i received (TCP order)
    deadlines = [d for d, _ in send_times]
    # A run = frames sent back to back; a new run starts when the queue had run dry.
    starts = [0] + [
        i for i in range(1, len(deadlines)) if deadlines[i] - deadlines[i - 1] > FRAME_S + 1e-9
    ]
    for start, end in zip(starts, starts[1:] + [len(deadlines)], strict=True):
        for k in range(start, end):
            assert abs(deadlines[k] - (deadlines[start] + (k - start) * FRAME_S)) < 1e-9
    assert received_times == sorted(received_times)
    assert all(sent >= deadline - 0.001 for deadline, sent in send_times)
    return len(starts)


async def test_simspeech_conversation_round_trips_through_the_whole_media_path(tmp_path):
    scenarios = parse_scenarios(
        {
            "ring_ms": 20,
            "default": {
                "script": [
                    {"say": "Hello, is anyone there?", "wait_for_agent": False},
                    {"say": "I would like a callback tomorrow at ten."},
                    {"listen": True},
                    {"hangup": True},
                ]
            },
        }
    )
    async with (
        SimPBX(scenarios, log_path=tmp_path / "sim.jsonl", trace_media=True) as pbx,
        AudioSocketServer(trace=True, keepalive=False) as server,  # exact echo
    ):
        from telephony.ami import AmiSettings, AsteriskGateway

        host, port = pbx.ami_address
        gateway = await AsteriskGateway.connect(
            AmiSettings(host=host, port=port, secret="voxflow"), server.address_text
        )
        attempt = str(uuid.uuid4())
        server.expect(attempt)
        result = await gateway.place_call(
            DialRequest(attempt, "+15551234567", detect_machine=False)
        )
        assert result.answered
        session = await server.accept(attempt, timeout=5)
        replies: list[str] = []
        await asyncio.wait_for(answering_provider(session, replies), 30)
        await gateway.close()

    media = pbx.calls[attempt].media
    assert media.said == ["Hello, is anyone there?", "I would like a callback tomorrow at ten."]
    assert replies == [
        "You said: Hello, is anyone there?",
        "You said: I would like a callback tomorrow at ten.",
    ]
    assert media.heard == replies  # decoded by the callee after 24 kHz → 8 kHz on the way back
    assert media.ended_by == "callee"
    assert session.close_reason == "remote_hangup"
    # Every outgoing frame is a 20 ms slin frame, paced on the deadline grid.
    assert {len(p) for _, p in media.received} == {320}
    # One run per reply (more only if the loop stalled > MAX_LAG_S and the writer restarted).
    assert assert_paced(session.send_times, [t for t, _ in media.received]) >= 2


async def test_echoed_frames_come_back_complete_and_in_order(tmp_path):
    scenarios = parse_scenarios(
        {
            "ring_ms": 20,
            "default": {
                "script": [
                    {"say": "one two three four five", "wait_for_agent": False},
                    {"listen": True},
                    {"hangup": True},
                ]
            },
        }
    )
    async with (
        SimPBX(scenarios, log_path=tmp_path / "sim.jsonl", trace_media=True) as pbx,
        AudioSocketServer(trace=True, keepalive=False) as server,  # exact echo
    ):
        from telephony.ami import AmiSettings, AsteriskGateway

        host, port = pbx.ami_address
        gateway = await AsteriskGateway.connect(
            AmiSettings(host=host, port=port, secret="voxflow"), server.address_text
        )
        attempt = str(uuid.uuid4())
        await gateway.place_call(DialRequest(attempt, "+15550000", detect_machine=False))
        session = await server.accept(attempt, timeout=5)
        await asyncio.wait_for(echo_provider(session), 30)
        await gateway.close()

    media = pbx.calls[attempt].media
    assert media.heard == ["one two three four five"]  # its own words, echoed
    received = [p for _, p in media.received]
    # The echo is the callee's own stream: same frames, same order, no gap, no duplicate.
    assert received == media.sent[: len(received)]
    assert len(received) >= len(encode("one two three four five")) // 320
    deadlines = [d for d, _ in session.send_times]
    assert all(b > a for a, b in zip(deadlines, deadlines[1:], strict=False))
    assert all(sent >= deadline - 0.001 for deadline, sent in session.send_times)
