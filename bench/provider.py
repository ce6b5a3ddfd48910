"""Provider audio → AudioSocket latency: from a Realtime audio delta arriving at the adapter
to the first AudioSocket byte of it leaving the media session, for both OpenAI audio formats.

* ``g711``: ``audio/pcmu`` deltas (8 kHz μ-law) → μ-law to slin, no resampling;
* ``pcm24k``: ``audio/pcm`` deltas (24 kHz) → soxr resampling to the 8 kHz line.

Setup: the OpenAI Realtime stand-in (tests/standins, its SDK-model checks off: they would run
on the event loop being measured) on loopback, the real adapter through the
official SDK, a real AudioSocket server and client on loopback. Start of the interval: the raw
WebSocket message of the delta returned by the SDK's ``recv_bytes`` (time.monotonic); end: the
media session's writer handing the first 20 ms frame to the socket (its trace, same clock).
Between them: SDK event parsing, base64, μ-law decode or soxr resampling, playout re-framing,
the first frame's write (from ``play`` itself when the writer is idle). The queue is empty
before each trial, so no pacing wait is included.

Barge-in case (``cancelled``): the model speaks a 3 s answer, paced; the caller starts speaking
once 400 ms of it have arrived. Like the call bridge, the bench drops the playout on
``CallerSpeechStarted`` and reports what was played; every frame of the cancelled answer handed
to the media session after that counts as reaching the caller. The strict stand-in keeps
sending audio for 300 ms after the cancel, so the figure shows whether the adapter drops it.

    .venv/bin/python bench/provider.py [--trials 200] [--barge-ins 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.providers.base import (  # noqa: E402
    AgentAudio,
    AgentAudioDone,
    CallerSpeechStarted,
    CallSetup,
    ResponseDone,
)
from runtime.providers.openai_realtime import OpenAIRealtimeProvider  # noqa: E402
from telephony.audio.frames import AudioFrame  # noqa: E402
from telephony.audiosocket import AudioSocketClient, AudioSocketServer  # noqa: E402
from tests.standins.harness import tone  # noqa: E402
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall  # noqa: E402

WARMUP = 10
"""First trials (imports, allocations, JIT-free warm caches) are not counted."""


async def model(call: RealtimeCall) -> None:
    n = 0
    while True:
        await call.next_event("response.create", n, wait_s=60)
        await call.speak("ok", audio_ms=100, chunk_ms=100)
        n += 1


async def measure(audio_format: str, trials: int) -> list[float]:
    async with (
        OpenAIRealtimeStandin(model, validate=False) as standin,
        AudioSocketServer(trace=True) as server,
    ):
        call_id = str(uuid.uuid4())
        server.expect(call_id)
        host, port = server.address
        client = AudioSocketClient.connect(host, port, call_id)
        caller = await client
        media = await server.accept(call_id, timeout=5)
        drain = asyncio.create_task(_drain(caller))
        provider = OpenAIRealtimeProvider(api_key="sk-standin", base_url=standin.base_url,
                                          audio_format=audio_format)  # type: ignore[arg-type]  # fmt: skip
        await provider.start(CallSetup(call_id))
        arrivals: list[float] = []
        conn = provider._conn
        raw_recv = conn.recv_bytes

        async def timed_recv() -> bytes:
            data = await raw_recv()
            if b'"response.output_audio.delta"' in data:
                arrivals.append(time.monotonic())
            return data

        conn.recv_bytes = timed_recv
        events = provider.events()
        latencies: list[float] = []
        for i in range(trials + WARMUP):
            assert media.send_times is not None
            sent_before = len(media.send_times)
            await provider.respond()
            async for event in events:
                if isinstance(event, AgentAudio):
                    await media.play(event.frame)
                elif isinstance(event, AgentAudioDone):
                    media.end_response()
                    break
            while len(media.send_times) == sent_before:  # noqa: ASYNC110 - polls a trace list
                await asyncio.sleep(0.001)
            if i >= WARMUP:
                latencies.append((media.send_times[sent_before][1] - arrivals[-1]) * 1000)
            while media.queued_ms:  # noqa: ASYNC110 - waits for the playout to drain
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.03)
        await provider.hangup()
        await media.hangup()
        drain.cancel()
        await caller.close()
        return latencies


async def talker(call: RealtimeCall) -> None:
    n = 0
    while True:
        await call.next_event("response.create", n, wait_s=60)
        turn = asyncio.create_task(call.caller_turn("stop", wait_s=60))
        await call.speak("a long answer the caller cuts", audio_ms=3000, pace=0.02)
        await turn
        await call.speak("Go ahead.", audio_ms=100)  # the server's answer to the caller
        n += 1


async def barge_ins(rounds: int) -> tuple[int, int, int]:
    """(frames of cancelled answers played after the barge-in, ms of audio that arrived after
    the cancel, barge-ins seen)."""
    async with (
        OpenAIRealtimeStandin(talker, validate=False) as standin,
        AudioSocketServer() as server,
    ):
        call_id = str(uuid.uuid4())
        server.expect(call_id)
        host, port = server.address
        caller = await AudioSocketClient.connect(host, port, call_id)
        media = await server.accept(call_id, timeout=5)
        drain = asyncio.create_task(_drain(caller))
        provider = OpenAIRealtimeProvider(api_key="sk-standin", base_url=standin.base_url)
        await provider.start(CallSetup(call_id))
        events = provider.events()
        leaked = seen = 0
        for _ in range(rounds):
            await provider.say("a long answer the caller cuts")
            item: str | None = None
            barged = False
            received = 0
            speaking: asyncio.Task[None] | None = None
            done = 0
            async for event in events:
                if isinstance(event, AgentAudio):
                    item = item or event.item_id
                    if barged and event.item_id == item:
                        leaked += 1
                    if event.item_id == item:
                        received += int(event.frame.duration_ms)
                    await media.play(event.frame)
                    if received >= 400 and speaking is None:
                        speaking = asyncio.create_task(_speak(provider))
                elif isinstance(event, CallerSpeechStarted):
                    seen += 1
                    barged = True
                    await provider.interrupted(item, media.interrupt())
                elif isinstance(event, AgentAudioDone):
                    media.end_response()
                elif isinstance(event, ResponseDone):
                    done += 1
                    if done == 2:
                        break
            if speaking is not None:
                await speaking
            while media.queued_ms:  # noqa: ASYNC110 - waits for the playout to drain
                await asyncio.sleep(0.02)
        dropped = provider.usage.dropped_audio_ms
        await provider.hangup()
        await media.hangup()
        drain.cancel()
        await caller.close()
        return leaked, dropped, seen


async def _speak(provider: OpenAIRealtimeProvider) -> None:
    for chunk in (tone(300, 8000), bytes(16 * 700)):
        for i in range(0, len(chunk), 320):
            await provider.send_audio(AudioFrame(chunk[i : i + 320], 8000))
            await asyncio.sleep(0.002)


async def _drain(caller: AudioSocketClient) -> None:
    while await caller.receive():
        pass


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--barge-ins", type=int, default=20)
    args = parser.parse_args()
    print(f"provider delta → first AudioSocket byte, {args.trials} trials per format")
    for fmt in ("pcmu", "pcm24k"):
        lat = await measure(fmt, args.trials)
        print(f"  {fmt:7s} p50 {pct(lat, 50):.3f} ms  p99 {pct(lat, 99):.3f} ms  "
              f"max {max(lat):.3f} ms  mean {statistics.fmean(lat):.3f} ms")  # fmt: skip
    leaked, dropped, seen = await barge_ins(args.barge_ins)
    print(f"cancelled: {seen} barge-ins, {leaked} frames of cancelled answers reached the caller, "
          f"{dropped} ms of audio arrived after the cancels and was dropped")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
