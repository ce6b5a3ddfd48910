"""CPU per provider-socket message, client side: the OpenAI SDK's connection, websockets'
asyncio client, and voxflow's own socket (``runtime/providers/realtime_socket.py``).

Run: ``.venv/bin/python bench/provider_socket.py [--calls 200] [--seconds 8] [--format pcmu]``

What it measures: N connections to a local WebSocket server in another process (pinned to
core 1), the client on uvloop pinned to core 0. Two phases per transport, each timed with
the client thread's CPU clock (``time.thread_time``), so other work on the machine changes
the wall time but hardly the figure:

* **send**: every connection sends one ``input_audio_buffer.append`` every ``--append-ms``
  (the adapter's text, built as the adapter builds it), the server only reads;
* **receive**: the server sends each connection one ``response.output_audio.delta`` of
  100 ms every 50 ms (the stand-in's pace in ``bench/call.py``), the client reads and
  ``json.loads`` each.

Printed: µs of client CPU per message in each phase (including the event loop's own work for
the wake-ups), the part of it inside the transport's send call, and what the send phase costs
per call-second at that append size. The
transports run alternated, ``--rounds`` times.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import sys
import time
from binascii import b2a_base64
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402

from runtime.providers.openai_realtime.endpoint import (  # noqa: E402
    realtime_headers,
    realtime_url,
)
from runtime.providers.realtime_socket import RealtimeSocket  # noqa: E402

BYTES_PER_MS = {"pcmu": 8, "pcm24k": 48}
TRANSPORTS = ("sdk", "websockets", "own")


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > core:
        os.sched_setaffinity(0, {core})


def _delta(fmt: str) -> str:
    audio = base64.b64encode(bytes(100 * BYTES_PER_MS[fmt])).decode()
    return json.dumps({"type": "response.output_audio.delta", "event_id": "e", "response_id": "r",
                       "item_id": "i", "output_index": 0, "content_index": 0, "delta": audio})  # fmt: skip


def server_main(conn: Any, fmt: str) -> None:
    """The peer: reads everything; in a ``recv`` session, sends a delta every 50 ms."""
    _pin(1)
    delta = _delta(fmt)

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        await ws.send(json.dumps({"type": "session.created", "session": {}}))
        if "model=recv" not in ws.request.path:
            async for _ in ws:
                pass
            return
        reader = asyncio.create_task(_drain(ws))
        try:
            while True:
                await ws.send(delta)
                await asyncio.sleep(0.05)
        except Exception:
            pass
        finally:
            reader.cancel()

    async def _drain(ws: ServerConnection) -> None:
        async for _ in ws:
            pass

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
            conn.send(server.sockets[0].getsockname()[1])
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told

    uvloop.run(main())


class _Client:
    """One connection through one transport, with the adapter's send and read calls."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.conn: Any = None

    async def open(self, client: AsyncOpenAI, model: str) -> None:
        if self.kind == "sdk":
            options: Any = {"open_timeout": None}
            self.conn = await client.realtime.connect(
                model=model, websocket_connection_options=options
            ).enter()
            await self.conn.recv_bytes()
        elif self.kind == "websockets":
            self.conn = await connect(
                realtime_url(client, model), additional_headers=realtime_headers(client),
                user_agent_header=None, max_size=None, compression=None, open_timeout=None,
            )  # fmt: skip
            await self.conn.recv(decode=False)
        else:
            self.conn = await RealtimeSocket.connect(
                realtime_url(client, model), realtime_headers(client), open_timeout=None
            )
            await self.conn.recv()

    async def send(self, text: str) -> None:
        if self.kind == "sdk":
            await self.conn.send_raw(text)
        elif self.kind == "websockets":
            await self.conn.send(text)
        else:
            self.conn.send(text)
            if self.conn.writing_paused:
                await self.conn.drain()

    async def recv(self) -> Any:
        if self.kind == "sdk":
            return json.loads(await self.conn.recv_bytes())
        if self.kind == "websockets":
            return json.loads(await self.conn.recv(decode=False))
        return json.loads(await self.conn.recv())

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.conn.close(), 5)
        except Exception:
            pass


async def phase(
    kind: str, mode: str, port: int, opts: argparse.Namespace
) -> tuple[float, int, float]:
    """Client CPU seconds, messages, and CPU seconds inside the send calls, over the phase's
    window."""
    client = AsyncOpenAI(api_key="sk-bench", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    clients = [_Client(kind) for _ in range(opts.calls)]
    for c in clients:
        await c.open(client, mode)
    count, in_send = 0, 0.0
    audio = bytes(opts.append_ms * BYTES_PER_MS[opts.format])
    head = '{"type": "input_audio_buffer.append", "audio": "'
    period = opts.append_ms / 1000
    stop = asyncio.Event()

    async def sender(c: _Client, offset: float) -> None:
        nonlocal count, in_send
        loop = asyncio.get_running_loop()
        await asyncio.sleep(offset)
        due = loop.time()
        while not stop.is_set():
            # The adapter's text: base64 and concatenation, no JSON encoder.
            text = head + b2a_base64(audio, newline=False).decode("ascii") + '"}'
            t0 = time.thread_time()
            await c.send(text)
            in_send += time.thread_time() - t0
            count += 1
            due += period
            await asyncio.sleep(max(0.0, due - loop.time()))

    async def reader(c: _Client) -> None:
        nonlocal count
        while not stop.is_set():
            await c.recv()
            count += 1

    tasks = [
        asyncio.create_task(sender(c, period * i / len(clients)) if mode == "send" else reader(c))
        for i, c in enumerate(clients)
    ]
    await asyncio.sleep(1.0)  # settle
    count, in_send, began = 0, 0.0, time.thread_time()
    await asyncio.sleep(opts.seconds)
    cpu, messages, sending = time.thread_time() - began, count, in_send
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(c.close() for c in clients))
    return cpu, messages, sending


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--format", choices=sorted(BYTES_PER_MS), default="pcmu")
    parser.add_argument("--append-ms", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--transports", default=",".join(TRANSPORTS))
    opts = parser.parse_args()
    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=server_main, args=(there, opts.format), daemon=True)
    server.start()
    port = here.recv()
    _pin(0)
    print(f"{opts.calls} connections, {opts.format}, {opts.append_ms} ms per append, "
          f"{opts.seconds:g} s per phase; load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print("round  transport   send µs/msg  in send()  send ms/call-s  recv µs/msg  load")
    try:
        for r in range(opts.rounds):
            for kind in opts.transports.split(","):
                load = os.getloadavg()[0]
                s_cpu, s_n, s_in = uvloop.run(phase(kind, "send", port, opts))
                r_cpu, r_n, _ = uvloop.run(phase(kind, "recv", port, opts))
                per_call_s = s_cpu * 1000 / (opts.calls * opts.seconds)
                print(f"{r + 1:>5}  {kind:<10} {s_cpu / s_n * 1e6:>12.1f} {s_in / s_n * 1e6:>10.1f}"
                      f" {per_call_s:>15.3f}"
                      f" {r_cpu / r_n * 1e6:>12.1f} {load:>5.2f}", flush=True)  # fmt: skip
    finally:
        here.send("stop")
        server.join(10)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    main()
