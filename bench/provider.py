"""Provider audio → AudioSocket latency: from a Realtime audio delta arriving at the adapter
to the first AudioSocket byte of it leaving the media session, for both OpenAI audio formats.

* ``g711``: ``audio/pcmu`` deltas (8 kHz μ-law) → μ-law to slin, no resampling;
* ``pcm24k``: ``audio/pcm`` deltas (24 kHz) → soxr resampling to the 8 kHz line.

Setup: the OpenAI Realtime stand-in (tests/standins) on loopback, the real adapter through the
official SDK, a real AudioSocket server and client on loopback. Start of the interval: the raw
WebSocket message of the delta returned by the SDK's ``recv_bytes`` (time.monotonic); end: the
media session's writer handing the first 20 ms frame to the socket (its trace, same clock).
Between them: SDK event parsing, base64, μ-law decode or soxr resampling, playout re-framing,
the first frame's write (from ``play`` itself when the writer is idle). The queue is empty
before each trial, so no pacing wait is included.

    .venv/bin/python bench/provider.py [--trials 200]
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

from runtime.providers.base import AgentAudio, AgentAudioDone, CallSetup  # noqa: E402
from runtime.providers.openai_realtime import OpenAIRealtimeProvider  # noqa: E402
from telephony.audiosocket import AudioSocketClient, AudioSocketServer  # noqa: E402
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
    async with OpenAIRealtimeStandin(model) as standin, AudioSocketServer(trace=True) as server:
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


async def _drain(caller: AudioSocketClient) -> None:
    while await caller.receive():
        pass


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    print(f"provider delta → first AudioSocket byte, {args.trials} trials per format")
    for fmt in ("pcmu", "pcm24k"):
        lat = await measure(fmt, args.trials)
        print(f"  {fmt:7s} p50 {pct(lat, 50):.3f} ms  p99 {pct(lat, 99):.3f} ms  "
              f"max {max(lat):.3f} ms  mean {statistics.fmean(lat):.3f} ms")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
