"""Media benchmark: N concurrent AudioSocket calls through the server with a loopback provider.

Run: ``.venv/bin/python bench/media.py [--calls 50 200 500 1000] [--seconds 10] [--loop auto|asyncio|uvloop] [--keepalive on|off] [--provider echo|silent]
[--timeline] [--metrics off|on|both]``

``--metrics on`` runs the server as a worker with ``VOXFLOW_METRICS=on`` does: its pacer counts
every frame's lateness (``runtime/observability/metrics.py``) and its metrics endpoint is
scraped once a second from the server process itself (a Prometheus scrapes every 15 s or so:
this is a pessimistic bound); ``both`` measures each N with metrics off, then on, in one run.
The media path has no per-frame span, so tracing costs it nothing to measure here
(``bench/campaign.py`` measures tracing).

Layout (needs >= 2 cores): the AudioSocket server and the loopback provider run in one process
pinned to core 0; the load generator (N simulated Asterisk calls) runs in another process
pinned to core 1 (on uvloop when installed: it is not the system under test, and a cheaper
load generator adds less of its own noise to the arrival times it records). Both use
``time.monotonic()`` (CLOCK_MONOTONIC, system-wide on Linux), so timestamps compare across the
two processes.

Callers: each call sends one 320-byte 20 ms frame per write, 50 writes a second, like an
Asterisk channel (``--per-write 2`` halves the load generator's writes); the calls are split
into ``--phases`` groups (8) whose writes are spread evenly over the 20 ms period, as
independent channels' timers are (``--phases 1``: every call writes in the same instant).

Per call the provider (1) queues a 2 s prompt and interrupts it after 600 ms (barge-in), then
(2) echoes the caller's audio with a 60 ms pre-buffer so the playout queue never runs dry:
``async for item in session.incoming(): await session.play(item)`` -- no resampling, no
provider socket; the real bridge (runtime/call/bridge.py) does more work per frame on top.

Figures printed per N:

* server CPU: process CPU seconds / wall seconds of the measured window; CPU seconds per
  call-second of audio actually echoed, and the calls per core it projects (this one stays
  meaningful when other work shares the core);
* lateness: how late each outgoing frame left vs its absolute 20 ms deadline (p50/p99/max),
  measured in the server over frames inside a run (queue not dry) -- the pacing jitter the
  server adds; "underruns" counts schedule restarts because the echo queue ran dry;
* arrival jitter: |inter-arrival - 20 ms| of echo frames at the caller (p50/p99) -- includes the
  load generator's own scheduling noise;
* flush: time from ``interrupt()`` until the last prompt frame reached the caller (p50/p99/max)
  and how many prompt frames still arrived after the interrupt;
* frames per pacer wake-up, and the cyclic garbage collector's runs in the window (each one
  stalls every call at once).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import os
import struct
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime import eventloop  # noqa: E402
from telephony.audio import AudioFrame  # noqa: E402
from telephony.audiosocket import AudioSocketServer, MediaSession, codec  # noqa: E402

FRAME = 320
PROMPT_FILL = b"\x01\x7f"
PROMPT_MS = 2000
INTERRUPT_AFTER_S = 0.6
PREBUFFER_FRAMES = 3


def _pin(core: int) -> str:
    try:
        os.sched_setaffinity(0, {core})
        return f"core {core}"
    except (AttributeError, OSError) as exc:
        return f"not pinned ({exc})"


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---- server process ------------------------------------------------------------------------


async def _silent_provider(session: MediaSession) -> None:
    """An agent that never speaks: the server sends only keep-alive silence (when on)."""
    async for _ in session.incoming():
        pass


async def _provider(
    session: MediaSession, interrupts: dict[str, float], played: dict[str, int]
) -> None:
    await session.play(AudioFrame(PROMPT_FILL * (FRAME // 2) * (PROMPT_MS // 20), 8000))
    await asyncio.sleep(INTERRUPT_AFTER_S)
    interrupts[session.call_id] = time.monotonic()
    played[session.call_id] = session.interrupt()
    pending: list[AudioFrame] = []
    async for item in session.incoming():
        if not isinstance(item, AudioFrame):
            continue
        if pending is not None:
            pending.append(item)
            if len(pending) < PREBUFFER_FRAMES:
                continue
            for frame in pending:
                await session.play(frame)
            pending = None  # type: ignore[assignment]
            continue
        await session.play(item)


class _GcPauses:
    """Durations of the cyclic garbage collector's runs (they stall every call at once)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))


async def _serve(conn, calls: int, opts: dict) -> None:
    interrupts: dict[str, float] = {}
    played: dict[str, int] = {}
    sessions: list[MediaSession] = []
    providers: set[asyncio.Task[None]] = set()
    gc_pauses = _GcPauses()
    scraper = _Scraper() if opts["metrics"] else None
    lateness = scraper.lateness if scraper is not None else None
    async with AudioSocketServer(
        trace=True, keepalive=opts["keepalive"], lateness=lateness
    ) as server:
        if opts["coalesce_ms"] is not None:
            server.pacer.coalesce_s = opts["coalesce_ms"] / 1000
        conn.send(server.address)

        async def take() -> None:
            async for session in server.sessions():
                sessions.append(session)
                task = asyncio.create_task(
                    _silent_provider(session)
                    if opts["provider"] == "silent"
                    else _provider(session, interrupts, played)
                )
                providers.add(task)
                task.add_done_callback(providers.discard)

        taker = asyncio.create_task(take())
        loop = asyncio.get_running_loop()
        window = await loop.run_in_executor(None, conn.recv)  # (start, end) of the steady window
        now = time.monotonic()
        await asyncio.sleep(max(0.0, window[0] - now))
        gc.callbacks.append(gc_pauses)
        cpu0, wall0, wakeups0 = time.process_time(), time.monotonic(), server.pacer.wakeups
        polled0 = server.pacer.polled
        silence0 = sum(s.silence_frames for s in sessions)
        await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
        cpu1, wall1, wakeups1 = time.process_time(), time.monotonic(), server.pacer.wakeups
        polled1 = server.pacer.polled
        silence1 = sum(s.silence_frames for s in sessions)
        gc.callbacks.remove(gc_pauses)
        ended_early = Counter(s.close_reason for s in sessions if s.closed.is_set())
        scrapes = scraper.stop() if scraper is not None else 0
        await loop.run_in_executor(None, conn.recv)  # the load generator is done
        taker.cancel()
        for task in list(providers):
            task.cancel()
    lateness, underruns = [], 0
    buckets: dict[int, list[float]] = {}
    frames_out = sum(
        1 for s in sessions for _, sent in (s.send_times or []) if window[0] <= sent <= window[1]
    )
    for s in sessions:
        times = s.send_times or []
        for (d0, _), (d1, sent) in zip(times, times[1:], strict=False):
            if not window[0] <= sent <= window[1]:
                continue
            if abs(d1 - d0 - 0.020) < 1e-9:
                lateness.append(sent - d1)  # a frame inside a run, on the 20 ms grid
                buckets.setdefault(int((sent - window[0]) * 10), []).append(sent - d1)
            else:
                underruns += 1  # the queue had run dry; the schedule restarted
    conn.send(
        {
            "sessions": len(sessions),
            "cpu": (cpu1 - cpu0) / (wall1 - wall0),
            "cpu_seconds": cpu1 - cpu0,
            "window_seconds": wall1 - wall0,
            "frames_out": frames_out,
            "silence_out": silence1 - silence0,
            "wakeups": wakeups1 - wakeups0,
            "polled": polled1 - polled0,
            "gc_pauses": gc_pauses.pauses,
            "gc_objects": len(gc.get_objects()),
            "lateness": lateness,
            "timeline": {
                b: (max(v), sum(1 for x in v if x > 0.005), len(v)) for b, v in buckets.items()
            },
            "underruns": underruns,
            "ended_early": dict(ended_early),
            "interrupts": interrupts,
            "played": played,
            "scrapes": scrapes,
        }
    )


class _Scraper:
    """The worker's metrics endpoint (``worker_metrics_server``), scraped once a second."""

    def __init__(self) -> None:
        from runtime.observability.exposition import worker_metrics_server
        from runtime.observability.metrics import PACER_LATENESS
        from runtime.settings import load_settings

        self.lateness = PACER_LATENESS
        settings = load_settings({"VOXFLOW_METRICS": "on", "VOXFLOW_METRICS_PORT": "0"})
        self._server = worker_metrics_server(settings)
        host, port = self._server.__enter__()
        self._url = f"http://{host}:{port}/metrics"
        self._stop = threading.Event()
        self.scrapes = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            with urllib.request.urlopen(self._url) as response:
                response.read()
            self.scrapes += 1

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self._server.__exit__(None, None, None)
        return self.scrapes


def server_main(conn, calls: int, opts: dict) -> None:
    # A worker imports the metrics module whether metrics are on or off (the call bridge
    # reports to it), so both settings carry its imports and objects.
    import runtime.observability.metrics  # noqa: F401

    prioritise(opts.get("nice", 0))
    conn.send(_pin(0))
    eventloop.run(_serve(conn, calls, opts), opts["loop"])


# ---- load generator process -----------------------------------------------------------------


class _Call(asyncio.Protocol):
    """One simulated Asterisk call; parses only message headers to stay cheap."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.prompt_arrivals: list[float] = []
        self.echo_arrivals: list[float] = []
        self.closed = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        transport.write(codec.encode(codec.Uuid(uuid.UUID(self.call_id))))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        pos = 0
        while len(buffer) - pos >= 3:
            length = buffer[pos + 1] << 8 | buffer[pos + 2]
            end = pos + 3 + length
            if len(buffer) < end:
                break
            if buffer[pos] == 0x10:
                if buffer[pos + 3 : pos + 5] == PROMPT_FILL:
                    self.prompt_arrivals.append(now)
                else:
                    self.echo_arrivals.append(now)
            pos = end
        del buffer[:pos]

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        self.closed = True


async def _load(conn, host: str, port: int, calls: int, seconds: float, opts: dict) -> None:
    loop = asyncio.get_running_loop()
    protocols: list[_Call] = []
    for i in range(calls):
        protocol = _Call(str(uuid.uuid4()))
        await loop.create_connection(lambda p=protocol: p, host, port)
        protocols.append(protocol)
        if i % 50 == 49:
            await asyncio.sleep(0.02)
    start = time.monotonic()
    window = (start + 2.0, start + seconds)
    conn.send(window)
    # Each call writes `per_write` 20 ms frames every per_write * 20 ms (50 frames/s, like
    # Asterisk). Calls are split into `phases` groups that write at evenly spaced offsets of
    # that period, as independent channels do; phases=1 makes every call write in one burst.
    per_write, phases = opts["per_write"], opts["phases"]
    period = 0.020 * per_write
    groups = [protocols[g::phases] for g in range(phases)]
    seq = 0
    deadline = start
    while time.monotonic() < start + seconds + 0.5:
        message = b"".join(
            codec.audio(struct.pack("<I", seq + k) + bytes(FRAME - 4)) for k in range(per_write)
        )
        for g, group in enumerate(groups):
            await asyncio.sleep(max(0.0, deadline + g * period / phases - time.monotonic()))
            for protocol in group:
                if protocol.transport is not None and not protocol.closed:
                    protocol.transport.write(message)
        seq += per_write
        deadline += period
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    behind = time.monotonic() - deadline
    for protocol in protocols:
        if protocol.transport is not None:
            protocol.transport.close()
    jitter = []
    for protocol in protocols:
        times = [t for t in protocol.echo_arrivals if window[0] <= t <= window[1]]
        jitter += [abs(b - a - 0.020) for a, b in zip(times, times[1:], strict=False)]
    conn.send(
        {
            "jitter": jitter,
            "prompt_arrivals": {p.call_id: p.prompt_arrivals for p in protocols},
            "echo_frames": sum(
                1 for p in protocols for t in p.echo_arrivals if window[0] <= t <= window[1]
            ),
            "behind": behind,
        }
    )


def load_main(conn, host: str, port: int, calls: int, seconds: float, opts: dict) -> None:
    prioritise(opts.get("nice", 0))
    conn.send(_pin(1))
    eventloop.run(_load(conn, host, port, calls, seconds, opts), opts["load_loop"])


# ---- orchestration ------------------------------------------------------------------------


def prioritise(nice: int) -> None:
    """Run this process in its own session at ``nice`` (and its autogroup, which CFS weighs
    against other sessions; < 0 needs root). ``bench/call.py --nice`` runs its baseline so,
    beside its own server at the same priority."""
    if not nice:
        return
    os.setsid()
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
        Path("/proc/self/autogroup").write_text(str(nice))
    except OSError as exc:
        print(f"nice {nice} not set: {exc}", file=sys.stderr)


class ChildDied(RuntimeError):
    """A benchmark process exited before it answered (its own traceback is printed above)."""

    def __init__(self, process: str, exitcode: int | None, waiting_for: str) -> None:
        super().__init__(
            f"waiting for {waiting_for}: the {process} process exited with code {exitcode} "
            "(its error is printed above)"
        )
        self.process, self.exitcode, self.waiting_for = process, exitcode, waiting_for


def receive(conn, processes: list, what: str, timeout_s: float = 900.0):  # type: ignore[no-untyped-def]
    """``conn.recv()`` that fails instead of hanging when a child process died first.

    ``processes[-1]`` is the one that answers on ``conn``: it must be alive (or have sent its
    answer); the others must be alive or have ended cleanly (code 0, their work done). The
    parent keeps its copy of each pipe's child end, so a dead child never closes the pipe: a
    plain ``recv`` would wait forever.
    """
    deadline = time.monotonic() + timeout_s
    while not conn.poll(0.5):
        for process in processes:
            if not process.is_alive() and (process is processes[-1] or process.exitcode != 0):
                raise ChildDied(process.name, process.exitcode, what)
        if time.monotonic() > deadline:
            raise TimeoutError(f"waiting for {what}: no answer in {timeout_s:.0f} s")
    return conn.recv()


def stop(processes: list) -> None:
    """Join the benchmark's processes; kill those still running after 15 s."""
    for process in processes:
        if process.pid is None:
            continue
        process.join(15)
        if process.is_alive():
            process.kill()
            process.join(5)


def run(calls: int, seconds: float, opts: dict) -> dict[str, object]:
    ctx = mp.get_context("spawn")
    server_conn, server_child = ctx.Pipe()
    load_conn, load_child = ctx.Pipe()
    server = ctx.Process(
        target=server_main, args=(server_child, calls, opts), daemon=True, name="media server"
    )
    processes = [server]
    try:
        server.start()
        server_pin = receive(server_conn, [server], "the media server's core")
        host, port = receive(server_conn, [server], "the media server's address")
        load = ctx.Process(
            target=load_main,
            args=(load_child, host, port, calls, seconds, opts),
            daemon=True,
            name="load generator",
        )
        processes.append(load)
        load.start()
        load_pin = receive(load_conn, [server, load], "the load generator's core")
        # the steady-state window
        server_conn.send(receive(load_conn, [server, load], "the callers' window"))
        client = receive(load_conn, [server, load], "the callers' figures")
        server_conn.send("done")
        result = receive(server_conn, [load, server], "the media server's figures")
    finally:
        stop(processes)
    flush, late_frames = [], []
    for call_id, t_interrupt in result["interrupts"].items():
        arrivals = client["prompt_arrivals"].get(call_id, [])
        after = [t for t in arrivals if t > t_interrupt]
        late_frames.append(len(after))
        last = arrivals[-1] if arrivals else t_interrupt
        flush.append(max(0.0, last - t_interrupt))
    return {
        "calls": calls,
        "sessions": result["sessions"],
        "pins": (server_pin, load_pin),
        "cpu": result["cpu"],
        "lateness": result["lateness"],
        "timeline": result["timeline"],
        "jitter": client["jitter"],
        "flush": flush,
        "late_frames": late_frames,
        "played": list(result["played"].values()),
        "echo_frames": client["echo_frames"],
        "underruns": result["underruns"],
        "ended_early": result["ended_early"],
        "cpu_seconds": result["cpu_seconds"],
        "frames_out": result["frames_out"],
        "wakeups": result["wakeups"],
        "polled": result["polled"],
        "gc_pauses": result["gc_pauses"],
        "gc_objects": result["gc_objects"],
        "behind": client["behind"],
        "seconds": seconds,
        "window_seconds": result["window_seconds"],
        "silence_out": result["silence_out"],
        "scrapes": result["scrapes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[50, 200, 500, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--loop",
        choices=["auto", "asyncio", "uvloop"],
        default="auto",
        help="the server's event loop, as VOXFLOW_EVENT_LOOP (auto: uvloop when installed, like the worker)",
    )
    parser.add_argument(
        "--load-loop",
        choices=["auto", "asyncio", "uvloop"],
        default="auto",
        help="the load generator's event loop (not the system under test; auto: uvloop if installed)",
    )
    parser.add_argument(
        "--per-write", type=int, default=1, help="caller frames per write (Asterisk: 1)"
    )
    parser.add_argument(
        "--phases", type=int, default=8, help="groups of calls writing at spread-out offsets"
    )
    parser.add_argument(
        "--coalesce-ms", type=float, default=None, help="override the pacer's timer quantum"
    )
    parser.add_argument(
        "--timeline", action="store_true", help="print the 100 ms slices with the latest frames"
    )
    parser.add_argument(
        "--keepalive",
        choices=["on", "off"],
        default="on",
        help="20 ms silence frames while a call has nothing queued (the server's default: on)",
    )
    parser.add_argument(
        "--provider",
        choices=["echo", "silent"],
        default="echo",
        help="echo: prompt, barge-in, then echo; silent: never speaks (keep-alive steady state)",
    )
    parser.add_argument(
        "--metrics",
        choices=["off", "on", "both"],
        default="off",
        help="the server with metrics off, on (counted and scraped each second), or both in turn",
    )
    args = parser.parse_args()
    opts = {
        "keepalive": args.keepalive == "on",
        "provider": args.provider,
        "loop": args.loop,
        "load_loop": args.load_loop,
        "per_write": args.per_write,
        "phases": args.phases,
        "coalesce_ms": args.coalesce_ms,
    }
    print(
        f"cpus available: {os.cpu_count()}, server event loop: {args.loop} (load generator: {args.load_loop}), caller writes: "
        f"{args.per_write} frame(s) per write in {args.phases} phase group(s), pacer quantum: "
        f"{'default' if args.coalesce_ms is None else f'{args.coalesce_ms} ms'}, "
        f"keep-alive: {args.keepalive}, provider: {args.provider}"
    )
    header = f"{'calls':>6} {'metrics':>7} {'load avg':>8} {'CPU core':>9} {'CPU/call-s':>10} {'late p50':>9} {'late p99':>9} {'late max':>9} {'jit p50':>8} {'jit p99':>8} {'flush p50':>10} {'flush p99':>10} {'flush max':>10} {'post-int':>8}"
    print(header)
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.metrics]
    for calls, metrics in [(c, m) for c in args.calls for m in modes]:
        load_avg = os.getloadavg()[0]
        r = run(calls, args.seconds, {**opts, "metrics": metrics})
        ms = 1000.0
        call_seconds = r["frames_out"] / 50
        per_call = r["cpu_seconds"] / call_seconds if call_seconds else float("nan")
        print(
            f"{r['calls']:>6} {('on' if metrics else 'off'):>7} {load_avg:>8.2f} {r['cpu'] * 100:>8.1f}% {per_call * ms:>8.2f}ms "
            f"{_pct(r['lateness'], 0.5) * ms:>7.2f}ms {_pct(r['lateness'], 0.99) * ms:>7.2f}ms {max(r['lateness'], default=float('nan')) * ms:>7.1f}ms "
            f"{_pct(r['jitter'], 0.5) * ms:>6.2f}ms {_pct(r['jitter'], 0.99) * ms:>6.2f}ms "
            f"{_pct(r['flush'], 0.5) * ms:>8.2f}ms {_pct(r['flush'], 0.99) * ms:>8.2f}ms {max(r['flush'], default=float('nan')) * ms:>8.1f}ms "
            f"{max(r['late_frames'], default=0):>8}",
            flush=True,
        )
        expected = calls * 50 * (args.seconds - 2.0)
        gc_runs = " ".join(
            f"gen{g} {len(p)}x/max {max(p, default=0) * ms:.1f} ms"
            for g in range(3)
            if (p := [t for gen, t in r["gc_pauses"] if gen == g])
        )
        print(
            f"       projected {1 / per_call:.0f} calls per fully available core; "
            f"{r['frames_out'] / max(1, r['wakeups'] + r['polled']):.1f} frames per pacer pass "
            f"({r['wakeups']} timer wake-ups, {r['polled']} polls between reads); "
            f"GC runs: {gc_runs or 'none'}; tracked objects at the end: {r['gc_objects']}"
        )
        live = r["sessions"] * r["window_seconds"]
        print(
            f"       server frames out per call per second: "
            f"{(r['frames_out'] + r['silence_out']) / live:.1f} ({r['silence_out'] / live:.1f} of them "
            f"keep-alive silence); CPU per live call-second: {r['cpu_seconds'] / live * ms:.3f} ms"
        )
        print(
            f"       echo frames at callers in window: {r['echo_frames']} (~{expected:.0f} expected); queue underruns: {r['underruns']}; load generator behind schedule at end: {r['behind'] * 1000:.0f} ms"
        )
        if args.timeline:
            worst = sorted(r["timeline"].items(), key=lambda kv: -kv[1][1])[:8]
            print(
                "       worst 100 ms slices (t from window start: max late, frames > 5 ms late / frames): "
                + "; ".join(f"{b / 10:.1f}s {m * ms:.1f}ms {n}/{t}" for b, (m, n, t) in worst)
            )
        if r["ended_early"]:
            print(f"       calls that ended before the window closed: {r['ended_early']}")
        if metrics:
            print(f"       metrics endpoint scraped {r['scrapes']} times during the run")
        if r["sessions"] != calls:
            print(f"  note: only {r['sessions']} of {calls} calls connected")
    print(
        "load avg = 1-minute load average before the run; CPU/call-s = server CPU per call-second of echoed audio;"
    )
    print(
        "late = outgoing frame send time - its 20 ms deadline (server); jit = |inter-arrival - 20 ms| at the caller;"
    )
    print(
        "flush = interrupt() -> last prompt frame at the caller; post-int = max prompt frames arriving after interrupt()."
    )
    print(f"server pinned to {r['pins'][0]}, load generator to {r['pins'][1]}.")


if __name__ == "__main__":
    main()
