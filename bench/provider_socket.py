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

``--transports ultravox`` drives the Ultravox adapter itself (``runtime/providers/ultravox``):
each connection is a call created over REST (``POST /api/calls``) and joined on its
``joinUrl``, as in production. **send**: ``send_audio`` of one ``--frame-ms`` frame of 8 kHz
s16le (one binary message) every ``--frame-ms``; **receive**: the server sends each call one
binary message of 100 ms of audio every 50 ms, and a consumer task per call takes the
adapter's ``AgentAudio`` events as the bridge would. ``--baseline TREE`` runs the same
phases with the adapter from another checkout (``git worktree add --detach /tmp/base REV``)
in a child process, alternated with this tree's in another, so the code before and after
are measured the same way in one run.
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

# ``--baseline`` runs this file in a child with VOXFLOW_BENCH_TREE naming the checkout whose
# code is measured.
sys.path.insert(0, os.environ.get("VOXFLOW_BENCH_TREE") or str(Path(__file__).resolve().parents[1]))

import uvloop  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402

from runtime.providers.base import AgentAudio, CallSetup  # noqa: E402
from runtime.providers.openai_realtime.endpoint import (  # noqa: E402
    realtime_headers,
    realtime_url,
)
from runtime.providers.realtime_socket import RealtimeSocket  # noqa: E402
from runtime.providers.ultravox import UltravoxProvider  # noqa: E402
from telephony.audio.frames import AudioFrame  # noqa: E402

BYTES_PER_MS = {"pcmu": 8, "pcm24k": 48}
TRANSPORTS = ("sdk", "websockets", "own")
ULTRAVOX = "ultravox"
HEADER = (
    "round  transport   send µs/msg  in send()  send ms/call-s  sent  recv µs/msg  open ms  load"
)
"""``sent``: the messages sent in the send phase over those due (under 1: the server's core
fell behind and the transport paused writing; ms per call-second is then low). ``open ms``:
client CPU to open one connection (ultravox: create the call over REST and join it)."""
UV_RATE = 8000
UV_AGENT_CHUNK = bytes(UV_RATE * 2 // 10)
"""100 ms of agent audio per binary message (the stand-in's chunk, ``tests/standins``)."""


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
        if ws.request.path.startswith("/calls/"):
            await _ultravox_call(ws)
            return
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

    async def _ultravox_call(ws: ServerConnection) -> None:
        """The joinUrl: ``call_started``, then read everything (``send``) or also send a
        100 ms binary message every 50 ms (``recv``)."""
        assert ws.request is not None
        await ws.send(json.dumps({"type": "call_started", "callId": ws.request.path}))
        await ws.send(json.dumps({"type": "state", "state": "listening"}))
        if "/recv-" not in ws.request.path:
            async for _ in ws:
                pass
            return
        reader = asyncio.create_task(_drain(ws))
        try:
            while True:
                await ws.send(UV_AGENT_CHUNK)
                await asyncio.sleep(0.05)
        except Exception:
            pass
        finally:
            reader.cancel()

    async def create_call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """``POST /api/calls``: 201 with a joinUrl naming the phase (from the call's id)."""
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = json.loads(await reader.readexactly(length))
        call_id = body["metadata"]["voxflow_call_id"]
        answer = json.dumps({"callId": call_id,
                             "joinUrl": f"ws://127.0.0.1:{ws_port}/calls/{call_id}"}).encode()  # fmt: skip
        writer.write(b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n"
                     b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(answer), answer))  # fmt: skip
        await writer.drain()
        writer.close()

    ws_port = 0

    async def main() -> None:
        nonlocal ws_port
        async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
            ws_port = server.sockets[0].getsockname()[1]
            rest = await asyncio.start_server(create_call, "127.0.0.1", 0)
            conn.send((ws_port, rest.sockets[0].getsockname()[1]))
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told
            rest.close()

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
    t0 = time.thread_time()
    for c in clients:
        await c.open(client, mode)
    opening = time.thread_time() - t0
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
    return cpu, messages, sending, opening


async def ultravox_phase(
    mode: str, rest_port: int, opts: argparse.Namespace
) -> tuple[float, int, float]:
    """As :func:`phase`, through the Ultravox adapter: ``send_audio`` per frame, or the
    ``AgentAudio`` events of the server's binary messages."""
    calls = [
        UltravoxProvider(api_key="uv-bench", base_url=f"http://127.0.0.1:{rest_port}/api")
        for _ in range(opts.calls)
    ]
    t0 = time.thread_time()
    for i, p in enumerate(calls):
        await p.start(CallSetup(f"{mode}-{i}"))
    opening = time.thread_time() - t0
    count, in_send = 0, 0.0
    frame = AudioFrame(bytes(UV_RATE * 2 * opts.frame_ms // 1000), UV_RATE)
    period = opts.frame_ms / 1000
    stop = asyncio.Event()

    async def sender(p: UltravoxProvider, offset: float) -> None:
        nonlocal count, in_send
        loop = asyncio.get_running_loop()
        await asyncio.sleep(offset)
        due = loop.time()
        while not stop.is_set():
            t0 = time.thread_time()
            await p.send_audio(frame)
            in_send += time.thread_time() - t0
            count += 1
            due += period
            await asyncio.sleep(max(0.0, due - loop.time()))

    async def consumer(p: UltravoxProvider) -> None:
        nonlocal count
        async for event in p.events():  # the bridge's side: every call has one
            if mode == "recv" and isinstance(event, AgentAudio):
                count += 1

    tasks = [asyncio.create_task(consumer(p)) for p in calls]
    if mode == "send":
        tasks += [asyncio.create_task(sender(p, period * i / len(calls))) for i, p in enumerate(calls)]  # fmt: skip
    await asyncio.sleep(1.0)  # settle
    count, in_send, began = 0, 0.0, time.thread_time()
    await asyncio.sleep(opts.seconds)
    cpu, messages, sending = time.thread_time() - began, count, in_send
    stop.set()
    await asyncio.gather(*(p.hangup() for p in calls), return_exceptions=True)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return cpu, messages, sending, opening


def _baseline_rows(opts: argparse.Namespace, tree: str, label: str) -> None:
    """One round of the Ultravox phases with ``tree``'s code, in a child process."""
    import subprocess

    args = [sys.executable, __file__, "--transports", ULTRAVOX, "--rounds", "1", "--rows-only",
            "--label", label, "--calls", str(opts.calls), "--seconds", str(opts.seconds),
            "--frame-ms", str(opts.frame_ms)]  # fmt: skip
    subprocess.run(args, env={**os.environ, "VOXFLOW_BENCH_TREE": tree}, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--format", choices=sorted(BYTES_PER_MS), default="pcmu")
    parser.add_argument("--append-ms", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--transports", default=",".join(TRANSPORTS),
                        help=f"comma-separated, of {', '.join(TRANSPORTS)}, {ULTRAVOX}")  # fmt: skip
    parser.add_argument("--frame-ms", type=int, default=20,
                        help="ultravox: caller audio per binary message (the bridge's is 20)")  # fmt: skip
    parser.add_argument("--baseline", metavar="TREE",
                        help="ultravox: alternate with the adapter of this checkout")  # fmt: skip
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    parser.add_argument("--rows-only", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.baseline:
        here_tree = str(Path(__file__).resolve().parents[1])
        print(f"{opts.calls} calls, ultravox, {opts.frame_ms} ms per caller message, "
              f"{opts.seconds:g} s per phase; before = {opts.baseline}")  # fmt: skip
        print(HEADER)
        for r in range(opts.rounds):
            pair = [(opts.baseline, "uv-before"), (here_tree, "uv-after")]
            for tree, label in pair if r % 2 == 0 else pair[::-1]:
                _baseline_rows(opts, tree, f"{r + 1}:{label}")
        return
    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=server_main, args=(there, opts.format), daemon=True)
    server.start()
    port, rest_port = here.recv()
    _pin(0)
    if not opts.rows_only:
        print(f"{opts.calls} connections, {opts.format}, {opts.append_ms} ms per append "
              f"(ultravox: {opts.frame_ms} ms per frame), {opts.seconds:g} s per phase; "
              f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
        print(HEADER)
    try:
        for r in range(opts.rounds):
            for kind in opts.transports.split(","):
                load = os.getloadavg()[0]
                if kind == ULTRAVOX:
                    s_cpu, s_n, s_in, s_open = uvloop.run(ultravox_phase("send", rest_port, opts))
                    r_cpu, r_n, _, r_open = uvloop.run(ultravox_phase("recv", rest_port, opts))
                else:
                    s_cpu, s_n, s_in, s_open = uvloop.run(phase(kind, "send", port, opts))
                    r_cpu, r_n, _, r_open = uvloop.run(phase(kind, "recv", port, opts))
                opening_ms = (s_open + r_open) * 1000 / (2 * opts.calls)
                per_call_s = s_cpu * 1000 / (opts.calls * opts.seconds)
                period_ms = opts.frame_ms if kind == ULTRAVOX else opts.append_ms
                sent = s_n / (opts.calls * opts.seconds * 1000 / period_ms)
                round_, name = opts.label.split(":") if opts.label else (str(r + 1), kind)
                print(f"{round_:>5}  {name:<10} {s_cpu / s_n * 1e6:>12.1f} {s_in / s_n * 1e6:>10.1f}"
                      f" {per_call_s:>15.3f} {sent:>5.2f}"
                      f" {r_cpu / r_n * 1e6:>12.1f} {opening_ms:>8.2f} {load:>5.2f}", flush=True)  # fmt: skip
    finally:
        here.send("stop")
        server.join(10)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    main()
