"""Whole-call benchmark: N concurrent calls through the real call path on one core.

Run: ``.venv/bin/python bench/call.py [--calls 50 200 500] [--seconds 20] [--profile 200]
[--no-baseline] [--format pcm24k|pcmu] [--stalls] [--nice -10] [--shared-session]
[--ramp CALLS_PER_S] [--connect-timeout S] [--gc-census] [--gc-threshold0 N]
[--harness lean|reference] [--phases 8] [--callers-nice -5]``

Layout (needs >= 2 cores):

* server process, pinned to core 0 (the system under test): an ``AudioSocketServer`` with
  keep-alive, and per call what the ``converse`` activity builds (``runtime.call.assemble.
  voice_call``): the engine on ``flows/reminder.flow``, the ``CallBridge``, the OpenAI Realtime
  adapter over a real WebSocket (its own, ``runtime/providers/realtime_socket.py``, at the
  URL and with the headers the SDK would use) (``pcm24k``: the bridge resamples
  caller audio 8 -> 24 kHz, the playout buffer agent audio 24 -> 8 kHz), the stereo recorder
  writing a WAV per call to a temporary directory (removed at the end);
* the OpenAI Realtime stand-in (``tests/standins``, SDK-model checks off: they are the
  stand-in's cost, not the server's), pinned to core 1, playing the model: it speaks the
  flow's greeting, and under server VAD answers each caller turn with 3 s of speech, sent in
  100 ms deltas at twice real time as the service does (it generates faster than it plays);
* the load generator (N simulated Asterisk channels), pinned to core 1: each sends a 20 ms
  frame every 20 ms, silence except when its caller speaks (1.2 s every 6 s, the calls spread
  over the cycle), and every third cycle also speaks 0.8 s into the agent's answer: a
  barge-in, which the bridge turns into a playout flush and a ``response.cancel`` +
  ``conversation.item.truncate``.

Figures per N, over a steady window after every call is up, each beside ``bench/media.py``'s
figure for the same N from the same run (its loopback echo provider; ``--no-baseline`` skips
it), with the 1-minute load average before each:

* CPU per live call-second: server process CPU (all its threads: the engine's steps run in
  worker threads) / (calls x window seconds); the ratio to the media server's own figure;
* late p99: how late each outgoing agent frame left against its 20 ms deadline (server side,
  frames inside a run), and arrival jitter at the caller: |inter-arrival - 20 ms| over every
  frame (audio and keep-alive) the caller received in the window;
* flush: from the bridge's ``interrupt()`` to the last agent-audio frame at the caller;
* ``--profile N``: one more run at N calls under ``cProfile`` for the split of CPU between
  media, resampling, provider socket, engine, recording, bridge and the event loop (see
  :func:`split`), with the profiler's overhead (CPU per call-second with and without it);
  ``BENCH_PROFILE_DUMP=PATH`` also writes the whole profile there (``pstats``);
* the in-process floor (:func:`floor`): the same per-frame work with no socket and no event
  loop, so the cost of the sockets and the loop shows as the difference;
* ``--gc-census`` (:class:`_GcCensus`, diagnostic: it slows the collections it watches): what
  each full collection walks, what the window promoted to generation 2, one full collection
  timed after the window with every call still live, and what the ended calls left that only
  the collector frees; ``--gc-threshold0 N`` tries another size of the
  young generation in the server;
* ``--stalls`` (:class:`_Stalls`): every stretch of more than 10 ms in which the server's loop
  ran none of its callbacks, with what its thread was doing (the Python stack seen most often)
  and, from the kernel's ``/proc/self/task/<tid>/schedstat``, how much of it the thread spent
  on a CPU and how much runnable but waiting for one (another process had the core).

The harness (``--harness``): ``lean`` (the default) serves the stand-in on websockets'
Sans-I/O server (``tests/standins/wsserver.py``) and runs the callers of ``bench/callers.py``
(one clock, pre-built frames, arrivals stamped into preallocated arrays); ``reference`` keeps
uvicorn + starlette and this module's ``_load``. Both run the same session logic and caller
script. Each row also reports the harness's own CPU on core 1 (stand-in and callers, with
their kernel time), every process's use of each core (``/proc/stat``), and how often the
callers' clock fired late: when it does, the figures are the harness's, not the server's.

The server runs in a session of its own (``setsid``): with the kernel's autogroups on, CFS
shares a core between sessions first, so left in the bench's session the server would share
one weight with the stand-in and the callers on the other core (``--shared-session`` keeps
the old layout). ``--nice N`` runs it at nice ``N`` (its autogroup too; < 0 needs root), the
way an operator gives a media process priority over batch work on the same machine; the
stand-in and the callers then run at that priority too, each in its own session, so that on
a shared machine the harness keeps its schedule (``--ramp``: calls started a second).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import gc
import json
import multiprocessing as mp
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
import uuid
from binascii import b2a_base64
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import callers as lean_callers  # noqa: E402
import media as media_bench  # noqa: E402
from media import receive, stop  # noqa: E402

from dsl import load_flow  # noqa: E402
from runtime import eventloop  # noqa: E402
from runtime.call import bridge as bridge_module  # noqa: E402
from runtime.call.assemble import call_engine, voice_call  # noqa: E402
from runtime.call.recording import StereoRecorder  # noqa: E402
from runtime.call.spec import CallServices, CallSpec  # noqa: E402
from runtime.engine.events import Tick  # noqa: E402
from runtime.persistence import InMemoryPersistence  # noqa: E402
from runtime.providers.openai_realtime.adapter import _APPEND_HEAD as APPEND_HEAD  # noqa: E402
from runtime.providers.openai_realtime.adapter import APPEND_MS  # noqa: E402
from runtime.providers.registry import Providers  # noqa: E402
from runtime.settings import load_settings  # noqa: E402
from telephony.audio import AudioFrame  # noqa: E402
from telephony.audio.frames import checked_frame  # noqa: E402
from telephony.audio.g711 import ulaw_decode, ulaw_encode  # noqa: E402
from telephony.audio.playout import PlayoutBuffer  # noqa: E402
from telephony.audio.resample import Resampler  # noqa: E402
from telephony.audiosocket import AudioSocketServer, codec  # noqa: E402
from tests.standins.harness import tone  # noqa: E402
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall  # noqa: E402

FLOW = ROOT / "flows" / "reminder.flow"
CONTACT = {
    "id": "a1",
    "first_name": "Ada",
    "phone": "+12125550143",
    "appointment_at": "2026-12-08T10:30:00-05:00",
    "timezone": "America/New_York",
}
FRAME = 320
CYCLE_S = 6.0
SPEAK_S = 1.2
BARGE_AT_S, BARGE_S = 3.0, 0.8
ANSWER = "sure, let me look at that for you, it will only take a moment " * 6
ANSWER_MS = 3000
DELTA_MS = 100
SPEECH = tone(20, 8000, 300.0, 6000)
SILENCE = bytes(FRAME)
ZERO = bytes(8)
HANG_UP_AFTER_S = 2.0
"""The callers hang up this long after the window's end: a saturated server's loop wakes
late, and it must still find live the calls that were live in the window."""


def _pin(core: int) -> str:
    try:
        os.sched_setaffinity(0, {core})
        return f"core {core}"
    except (AttributeError, OSError) as exc:
        return f"not pinned ({exc})"


def _renice(nice: int) -> str:
    """Run this process at ``nice`` (and its autogroup, which CFS weighs against others)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
        Path("/proc/self/autogroup").write_text(str(nice))
        return f"nice {nice}"
    except OSError as exc:
        return f"nice not set ({exc})"


def _rss_kib() -> int:
    """This process's resident memory (``VmRSS``), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---- the model (stand-in process) ----------------------------------------------------------


async def model(call: RealtimeCall) -> None:
    """Speak each response the client asks for or VAD opens; barge-ins cut an answer short."""
    speaking: asyncio.Task[str] | None = None
    while True:
        await call.wait_until(
            lambda: call._unfilled is not None or call._speech_at is not None, 3600
        )
        if call._speech_at is not None:
            await call.caller_turn("yes", wait_s=3600)
        if speaking is not None:
            await speaking
        speaking = asyncio.create_task(
            call.speak(ANSWER, ANSWER_MS, chunk_ms=DELTA_MS, pace=DELTA_MS / 2000)
        )
        speaking.add_done_callback(_hung_up)
        await asyncio.sleep(0)


def _hung_up(task: asyncio.Task[str]) -> None:
    """An answer cut off because the caller hung up ends the stand-in's speech; no more."""
    if not task.cancelled():
        task.exception()


async def _standin(conn, transport: str) -> None:
    loop = asyncio.get_running_loop()
    async with OpenAIRealtimeStandin(
        model, validate=False, keep_audio=False, decode_speech=False, transport=transport
    ) as standin:
        conn.send(standin.base_url)
        window = await loop.run_in_executor(None, conn.recv)
        await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
        dump = os.environ.get("BENCH_HARNESS_PROFILE_DUMP")  # the stand-in's window, for pstats
        profiler = cProfile.Profile(time.thread_time) if dump else None
        if profiler is not None:
            profiler.enable()
        cpu0, open0 = os.times(), sum(not c.closed for c in standin.calls)
        await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
        cpu1 = os.times()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(f"{dump}.standin")
        conn.send({"cpu_seconds": cpu1.user + cpu1.system - cpu0.user - cpu0.system,
                   "system_seconds": cpu1.system - cpu0.system, "sessions": len(standin.calls),
                   "open_at_start": open0, "open_at_end": sum(not c.closed for c in standin.calls)})  # fmt: skip
        await loop.run_in_executor(None, conn.recv)


def _harness_priority(nice: int) -> None:
    """Run a harness process (stand-in, callers) at the server's priority, in its own session.

    On a machine shared with batch work, a harness left at nice 0 falls behind (the callers
    stop sending on time, the stand-in misses its WebSocket pings) and what is measured is
    the harness, not the server.
    """
    if nice:
        os.setsid()
        _renice(nice)


def standin_main(conn, nice: int = 0, transport: str = "lean") -> None:
    _harness_priority(nice)
    conn.send(_pin(1))
    eventloop.run(_standin(conn, transport), "auto")


# ---- the server (system under test) --------------------------------------------------------


class _Stalls:
    """Event-loop stalls: a heartbeat on the loop every 2 ms, watched from a thread.

    When the heartbeat is more than ``threshold_s`` overdue, the watcher samples the loop
    thread's Python stack every millisecond until it beats again; each stall is kept with
    its length and the stack seen most often in it. The watcher needs the GIL to sample, so
    the stacks lean towards the places that let it go (soxr's resampling, socket writes, the
    5 ms switch interval): read them as where the loop was, not as what cost the time; the
    CPU figures below say that. Cheap enough to leave on: 500 wake-ups a second.

    ``stalls``: ``(start, seconds, stack, on_cpu_s, waiting_s, process_cpu_s)`` per stall;
    the last three cover the stall from the watcher's last on-time reading (at most 4 ms
    before it), so they can exceed ``seconds`` a little. ``waiting_s`` is the kernel's count
    of the loop thread's time runnable but not running: another process had the core.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, threshold_s: float = 0.010) -> None:
        self._loop = loop
        self.threshold_s = threshold_s
        self.beat = time.monotonic()
        self.stalls: list[tuple[float, float, str]] = []
        self._stop = False
        self._thread_id = threading.get_ident()
        self._schedstat = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
        self._handle = loop.call_later(0.002, self._tick)
        self._watcher = threading.Thread(target=self._watch, daemon=True, name="stall-watch")
        self._watcher.start()

    def _tick(self) -> None:
        self.beat = time.monotonic()
        if not self._stop:
            self._handle = self._loop.call_later(0.002, self._tick)

    def _watch(self) -> None:
        before = (*self._sched(), time.process_time())
        while not self._stop:
            time.sleep(0.001)
            beat = self.beat
            age = time.monotonic() - beat
            if age < 0.004:
                before = (*self._sched(), time.process_time())  # the last reading on time
            if age < self.threshold_s:
                continue
            seen: dict[str, int] = {}
            ran0, waited0, cpu0 = before
            while self.beat == beat and not self._stop:
                frame = sys._current_frames().get(self._thread_id)
                stack = []
                while frame is not None and len(stack) < 12:
                    code = frame.f_code
                    stack.append(
                        f"{code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} {code.co_name}"
                    )
                    frame = frame.f_back
                key = " <- ".join(stack)
                seen[key] = seen.get(key, 0) + 1
                time.sleep(0.001)
            top = max(seen.items(), key=lambda kv: kv[1])[0] if seen else "?"
            ran1, waited1 = self._sched()
            self.stalls.append((beat, self.beat - beat, top, ran1 - ran0, waited1 - waited0,
                                time.process_time() - cpu0))  # fmt: skip

    def _sched(self) -> tuple[float, float]:
        """The loop thread's CPU time and time spent runnable but not running (the kernel's)."""
        try:
            ran, waited, _ = self._schedstat.read_text().split()
        except OSError:
            return 0.0, 0.0
        return int(ran) / 1e9, int(waited) / 1e9

    def close(self) -> None:
        self._stop = True
        self._handle.cancel()
        self._watcher.join()


class _GcCensus:
    """What the cyclic collector walks when a full (generation 2) collection starts.

    A ``gc.callbacks`` hook (diagnostic only: counting costs more than the collection): at the
    start of each generation-2 run, the objects in generation 2 counted by type, and the
    sizes of the young generations; ``snapshot`` gives the same count at any other moment, so
    the window's growth of generation 2 shows beside it.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[float, int, list[tuple[str, int]], tuple[int, int, int]]] = []
        self.promoted: dict[str, int] = {}
        self.garbage: dict[str, int] = {}
        self._before: dict[str, int] = {}

    @staticmethod
    def snapshot() -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in gc.get_objects(2):
            t = type(o)
            key = f"{t.__module__}.{t.__qualname__}"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def __call__(self, phase: str, info: dict) -> None:
        generation = info["generation"]
        if generation == 1:  # what survives a generation-1 run is promoted to generation 2
            if phase == "start":
                self._before = self.snapshot()
            else:
                for key, n in self.snapshot().items():
                    grew = n - self._before.get(key, 0)
                    if grew > 0:
                        self.promoted[key] = self.promoted.get(key, 0) + grew
            return
        if phase != "start" or generation != 2:
            return
        counts = self.snapshot()
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:25]
        self.runs.append((time.monotonic(), sum(counts.values()), top, gc.get_count()))


class _EngineClock:
    """CPU time of the engine steps the bridge runs in worker threads (a timed section)."""

    seconds = 0.0

    @classmethod
    def install(cls) -> None:
        async def timed(step, *args):  # type: ignore[no-untyped-def]
            def run():  # type: ignore[no-untyped-def]
                t0 = time.thread_time()
                try:
                    return step(*args)
                finally:
                    cls.seconds += time.thread_time() - t0

            return await asyncio.to_thread(run)

        bridge_module.CallBridge._off_loop = staticmethod(timed)  # type: ignore[method-assign]


async def _serve(conn, opts: dict) -> None:
    settings = load_settings({"OPENAI_API_KEY": "sk-standin", "OPENAI_BASE_URL": opts["base_url"]})
    providers = Providers(
        settings,
        openai_audio_format=opts["format"],
        openai_connect_timeout=opts.get("connect_timeout", 10.0),
        openai_append_ms=opts.get("append_ms"),
    )
    flow = load_flow(FLOW)
    services = CallServices(InMemoryPersistence())
    recordings = Path(tempfile.mkdtemp(prefix="voxflow-bench-call-"))
    interrupts: dict[str, list[float]] = {}
    bridges: list[object] = []
    failures: list[str] = []
    ends: dict[str, int] = {}
    tasks: set[asyncio.Task[None]] = set()
    _EngineClock.install()

    async def one(session) -> None:  # type: ignore[no-untyped-def]
        times = interrupts.setdefault(session.call_id, [])
        interrupt = session.interrupt

        def timed_interrupt() -> int:
            times.append(time.monotonic())
            return interrupt()

        session.interrupt = timed_interrupt
        spec = CallSpec(flow=flow, call_id=session.call_id, now=datetime.now(UTC), contact=CONTACT)
        call = voice_call(spec, services, media=session, providers=providers, chain=["openai"],
                          recordings=recordings)  # fmt: skip
        bridges.append(call.bridge)
        result = await call.run()
        await call.close_recording()
        ends[f"{result.ended_by}/{result.outcome}"] = (
            ends.get(f"{result.ended_by}/{result.outcome}", 0) + 1
        )
        if result.error:
            failures.append(result.error)

    try:
        async with AudioSocketServer(trace=True, keepalive=True) as server:
            if opts.get("settle_heap", True):
                eventloop.settle_heap()  # as the worker does once started (runtime/worker.py)
            if opts.get("gc_threshold0"):  # an experiment: the young generation's size
                gc.set_threshold(opts["gc_threshold0"], *gc.get_threshold()[1:])
            census = _GcCensus() if opts.get("gc_census") else None
            if census is not None:
                gc.callbacks.insert(0, census)  # from here: the calls' set-up too
            conn.send(server.address)
            rss_before = _rss_kib()

            async def take() -> None:
                async for session in server.sessions():
                    task = asyncio.create_task(one(session))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)

            taker = asyncio.create_task(take())
            loop = asyncio.get_running_loop()
            calls = await loop.run_in_executor(None, conn.recv)  # the callers are connected
            ready_by = time.monotonic() + 60 + opts.get("connect_timeout", 10.0)
            while time.monotonic() < ready_by and (  # noqa: ASYNC110 - polls the bridges
                len(bridges) < calls or any(b.provider is None for b in bridges)  # type: ignore[attr-defined]
            ):
                await asyncio.sleep(0.1)
            conn.send(sum(1 for b in bridges if b.provider is not None))  # type: ignore[attr-defined]
            window = await loop.run_in_executor(None, conn.recv)
            await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
            profiler = cProfile.Profile(time.thread_time) if opts["profile"] else None
            sessions = list(server.active().values())
            rss_live = _rss_kib()
            stalls = _Stalls(loop) if opts.get("stalls") else None
            gc_pauses = media_bench._GcPauses()
            gc.callbacks.append(gc_pauses)
            gen2_start = census.snapshot() if census is not None else {}
            if census is not None:
                census.promoted = {}
            engine0 = _EngineClock.seconds
            if profiler is not None:
                profiler.enable()
            cpu0, wall0 = time.process_time(), time.monotonic()
            await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
            cpu1, wall1 = time.process_time(), time.monotonic()
            if profiler is not None:
                profiler.disable()
                if os.environ.get("BENCH_PROFILE_DUMP"):  # the whole profile, for pstats
                    profiler.dump_stats(os.environ["BENCH_PROFILE_DUMP"])
            engine1 = _EngineClock.seconds
            gc.callbacks.remove(gc_pauses)
            if census is not None:
                gc.callbacks.remove(census)
                gen2_end = census.snapshot()
                # One full collection timed with every call still live, since the window may
                # hold none: the objects it walks (all but the frozen heap) and its pause.
                walked = len(gc.get_objects())
                t_full = time.perf_counter()
                gc.collect()
                full = (walked, (time.perf_counter() - t_full) * 1000)
            if stalls is not None:
                stalls.close()
            live = len(server.active())
            await loop.run_in_executor(None, conn.recv)  # the callers hung up
            for _ in range(100):
                if not tasks:
                    break
                await asyncio.sleep(0.1)
            taker.cancel()
            for task in list(tasks):
                task.cancel()
            await asyncio.sleep(0.5)
            if census is not None:  # what the ended calls left that only the collector frees
                gc.set_debug(gc.DEBUG_SAVEALL)
                gc.collect()
                gc.set_debug(0)
                for o in gc.garbage:
                    key = f"{type(o).__module__}.{type(o).__qualname__}"
                    census.garbage[key] = census.garbage.get(key, 0) + 1
                gc.garbage.clear()
    finally:
        shutil.rmtree(recordings, ignore_errors=True)
    lateness: list[float] = []
    for s in sessions:
        times_ = s.send_times or []
        for (d0, _), (d1, sent) in zip(times_, times_[1:], strict=False):
            if window[0] <= sent <= window[1] and abs(d1 - d0 - 0.020) < 1e-9:
                lateness.append(sent - d1)
    conn.send({
        "sessions": len(sessions), "live": live, "live_late_s": wall1 - window[1], "cpu_seconds": cpu1 - cpu0,
        "window_seconds": wall1 - wall0, "rss_before": rss_before, "rss_live": rss_live, "gc": gc_pauses.pauses, "engine_thread_seconds": engine1 - engine0,
        "lateness": lateness, "interrupts": interrupts, "failures": failures[:5],
        "failed": len(failures), "ends": ends,
        "dropped_incoming": sum(s.dropped_incoming for s in sessions),
        "split": split(profiler) if profiler is not None else None,
        "stalls": [s for s in stalls.stalls if window[0] <= s[0] <= window[1]] if stalls else [],
        "census": None if census is None else {
            "runs": [(t - window[0], n, top, counts) for t, n, top, counts in census.runs],
            "start": gen2_start, "end": gen2_end, "stats": gc.get_stats(),
            "promoted": census.promoted, "frozen": gc.get_freeze_count(), "garbage": census.garbage,
            "full": full,
        },
    })  # fmt: skip


def server_main(conn, opts: dict) -> None:
    if opts.get("own_session"):
        os.setsid()  # its own scheduler autogroup (bench/README.md, "what stalled the loop")
    if opts.get("nice"):
        _renice(opts["nice"])
    conn.send(_pin(0))
    eventloop.run(_serve(conn, opts), "auto")


# ---- the callers (load generator process) ----------------------------------------------------


class _Caller(asyncio.Protocol):
    """One simulated Asterisk channel: records each frame's arrival and whether it was audio."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.arrivals: list[float] = []
        self.audio_arrivals: list[float] = []
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
            end = pos + 3 + (buffer[pos + 1] << 8 | buffer[pos + 2])
            if len(buffer) < end:
                break
            if buffer[pos] == 0x10:
                self.arrivals.append(now)
                if buffer[pos + 3 : pos + 11] != ZERO:
                    self.audio_arrivals.append(now)
            pos = end
        del buffer[:pos]

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        self.closed = True


def _speaking(t: float) -> bool:
    """Whether a caller ``t`` seconds into its schedule is speaking."""
    cycle, at = divmod(t, CYCLE_S)
    return at < SPEAK_S or (int(cycle) % 3 == 2 and BARGE_AT_S <= at < BARGE_AT_S + BARGE_S)


async def _load(conn, host: str, port: int, calls: int, ramp: float) -> None:
    loop = asyncio.get_running_loop()
    callers: list[_Caller] = []
    began = time.monotonic()
    for i in range(calls):
        # ``ramp`` new calls a second: each opens a WebSocket to the stand-in, whose core is
        # shared with this load generator, and (from the second call on) the calls already up
        # keep both cores busy while the next ones connect.
        await asyncio.sleep(max(0.0, began + i / ramp - time.monotonic()))
        caller = _Caller(str(uuid.uuid4()))
        await loop.create_connection(lambda c=caller: c, host, port)
        callers.append(caller)
    start = time.monotonic()
    conn.send("connected")
    sender = asyncio.create_task(_send(callers, start))
    window = await loop.run_in_executor(None, conn.recv)
    await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
    cpu0, cores0 = os.times(), _core_times()
    await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
    cpu1, cores1 = os.times(), _core_times()
    await asyncio.sleep(max(0.0, window[1] + HANG_UP_AFTER_S - time.monotonic()))
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)
    for caller in callers:
        if caller.transport is not None and not caller.transport.is_closing():
            caller.transport.write(codec.encode(codec.Hangup()))
            caller.transport.close()
    jitter: list[float] = []
    for caller in callers:
        times = [t for t in caller.arrivals if window[0] <= t <= window[1]]
        jitter += [abs(b - a - 0.020) for a, b in zip(times, times[1:], strict=False)]
    conn.send({
        "jitter": jitter, "audio": {c.call_id: c.audio_arrivals for c in callers},
        "frames": sum(1 for c in callers for t in c.arrivals if window[0] <= t <= window[1]),
        "behind": SENDER["behind"], "cpu_seconds": _cpu(cpu0, cpu1),
        "system_seconds": cpu1.system - cpu0.system, "cores": _busy(cores0, cores1),
        "sent": None, "hung_up_by_server": None, "clock": None,
    })  # fmt: skip


def _cpu(before: os.times_result, after: os.times_result) -> float:
    """This process's CPU seconds (user and system) between two ``os.times()``."""
    return after.user + after.system - before.user - before.system


def _core_times() -> dict[str, tuple[int, int]]:
    """Per CPU (``cpu0``, ``cpu1``, ...): (busy, total) clock ticks since boot, from
    ``/proc/stat`` (proc(5)); busy is everything but idle and iowait."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3].isdigit():
            name, *values = line.split()
            ticks = [int(v) for v in values[:8]]
            out[name] = (sum(ticks) - ticks[3] - ticks[4], sum(ticks))
    return out


def _busy(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> dict:
    """Each core's busy share between two :func:`_core_times` readings (all processes)."""
    return {
        name: (after[name][0] - b[0]) / max(1, after[name][1] - b[1])
        for name, b in before.items()
        if name in after
    }


async def _load_lean(conn, host: str, port: int, calls: int, ramp: float, opts: dict) -> None:
    """The lean load generator (``bench/callers.py``): same calls, same script, same ramp."""
    loop = asyncio.get_running_loop()
    capacity = int((opts["seconds"] + 1.0) * 50 * 1.2) + 100
    frames = lean_callers.scripts(
        calls, _speaking, CYCLE_S, codec.audio(SPEECH), codec.audio(SILENCE)
    )
    callers: list[lean_callers.LeanCaller] = []
    began = time.monotonic()
    for i in range(calls):
        await asyncio.sleep(max(0.0, began + i / ramp - time.monotonic()))
        caller = lean_callers.LeanCaller(i, frames[i], capacity)
        await loop.create_connection(lambda c=caller: c, host, port)
        callers.append(caller)
    conn.send("connected")
    clock = lean_callers.Clock(callers, opts["phases"], time.monotonic())
    marks: dict[str, object] = {}

    dump = os.environ.get("BENCH_HARNESS_PROFILE_DUMP")  # the callers' window, for pstats
    profiler = cProfile.Profile(time.thread_time) if dump else None

    def started() -> None:
        marks["cpu0"], marks["cores0"] = os.times(), _core_times()
        if profiler is not None:
            profiler.enable()

    clock.on_window_start = started
    window = await loop.run_in_executor(None, conn.recv)
    clock.window = window
    await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
    cpu1, cores1 = os.times(), _core_times()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{dump}.callers")
    await asyncio.sleep(max(0.0, window[1] + HANG_UP_AFTER_S - time.monotonic()))
    clock.stop()
    for caller in callers:
        caller.hang_up()
    jitter: list[float] = []
    audio: dict[str, list[float]] = {}
    frames_in = 0
    for caller in callers:
        j, a, n = caller.window(*window)
        jitter += j
        audio[caller.call_id] = a
        frames_in += n
    conn.send({
        "jitter": jitter, "audio": audio, "frames": frames_in, "behind": clock.behind,
        "cpu_seconds": _cpu(marks["cpu0"], cpu1) if "cpu0" in marks else float("nan"),  # type: ignore[arg-type]
        "system_seconds": cpu1.system - marks["cpu0"].system if "cpu0" in marks else float("nan"),  # type: ignore[attr-defined]
        "cores": _busy(marks["cores0"], cores1) if "cores0" in marks else {},  # type: ignore[arg-type]
        "sent": clock.sent, "hung_up_by_server": sum(c.hung_up_by_server for c in callers),
        "overflow": sum(c.overflow for c in callers),
        "clock": (clock.firings, clock.late_5ms, clock.late_20ms),
    })  # fmt: skip


SENDER = {"behind": 0.0}
"""How far the load generator's own schedule fell behind at worst (its noise, not the server's)."""


async def _send(callers: list[_Caller], start: float) -> None:
    """Every caller's frame every 20 ms (speech or silence by its schedule), until cancelled."""
    calls = len(callers)
    offsets = [CYCLE_S * i / calls for i in range(calls)]
    phases = 8
    groups = [list(range(g, calls, phases)) for g in range(phases)]
    speech, silence = codec.audio(SPEECH), codec.audio(SILENCE)
    deadline = start
    while True:
        for g, group in enumerate(groups):
            await asyncio.sleep(max(0.0, deadline + g * 0.020 / phases - time.monotonic()))
            t = deadline - start
            for i in group:
                caller = callers[i]
                if caller.transport is not None and not caller.closed:
                    caller.transport.write(speech if _speaking(t + offsets[i]) else silence)
        deadline += 0.020
        SENDER["behind"] = max(SENDER["behind"], time.monotonic() - deadline)
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))


def load_main(conn, host: str, port: int, calls: int, ramp: float, nice: int = 0,
              opts: dict | None = None) -> None:  # fmt: skip
    opts = opts or {"harness": "reference"}
    # The callers play Asterisk, whose 20 ms clock must hold while the stand-in (a remote
    # service) works through a burst on the same core: one step more priority (--callers-nice).
    _harness_priority(nice + opts.get("callers_nice", 0) if nice else 0)
    conn.send(_pin(1))
    if opts["harness"] == "lean":
        eventloop.run(_load_lean(conn, host, port, calls, ramp, opts), "auto")
    else:
        eventloop.run(_load(conn, host, port, calls, ramp), "auto")


# ---- orchestration ------------------------------------------------------------------------


def run(
    calls: int,
    seconds: float,
    *,
    fmt: str,
    profile: bool = False,
    stalls: bool = False,
    own_session: bool = True,
    nice: int = 0,
    settle_heap: bool = True,
    ramp: float = 50.0,
    connect_timeout: float = 10.0,
    append_ms: int | None = None,
    gc_census: bool = False,
    gc_threshold0: int | None = None,
    harness: str = "lean",
    phases: int = 8,
    callers_nice: int = -5,
) -> dict:
    ctx = mp.get_context("spawn")
    standin_conn, standin_child = ctx.Pipe()
    server_conn, server_child = ctx.Pipe()
    load_conn, load_child = ctx.Pipe()
    standin = ctx.Process(
        target=standin_main,
        args=(standin_child, nice, "lean" if harness == "lean" else "reference"),
        daemon=True,
        name="stand-in",
    )
    processes = [standin]
    try:
        standin.start()
        receive(standin_conn, [standin], "the stand-in's core")
        base_url = receive(standin_conn, [standin], "the stand-in's address")
        opts = {
            "base_url": base_url,
            "format": fmt,
            "profile": profile,
            "stalls": stalls,
            "gc_census": gc_census,
            "gc_threshold0": gc_threshold0,
            "own_session": own_session,
            "nice": nice,
            "settle_heap": settle_heap,
            "connect_timeout": connect_timeout,
            "append_ms": append_ms,
        }
        server = ctx.Process(
            target=server_main, args=(server_child, opts), daemon=True, name="call server"
        )
        processes.append(server)
        server.start()
        pins = [receive(server_conn, [standin, server], "the call server's core")]
        host, port = receive(server_conn, [standin, server], "the call server's address")
        load = ctx.Process(
            target=load_main,
            args=(
                load_child,
                host,
                port,
                calls,
                ramp,
                nice,
                {
                    "harness": harness,
                    "seconds": seconds,
                    "phases": phases,
                    "callers_nice": callers_nice,
                },
            ),  # fmt: skip
            daemon=True,
            name="load generator",
        )
        processes.append(load)
        load.start()
        pins.append(receive(load_conn, processes, "the load generator's core"))
        receive(load_conn, processes, "the callers to connect")
        server_conn.send(calls)
        ready = receive(server_conn, [standin, load, server], "the calls' provider sessions")
        start = time.monotonic() + 2.0
        window = (start, start + seconds)
        server_conn.send(window)
        load_conn.send(window)
        standin_conn.send(window)
        harness_figures = receive(standin_conn, [standin], "the stand-in's figures")
        client = receive(load_conn, processes, "the callers' figures")
        server_conn.send("done")
        result = receive(server_conn, [standin, load, server], "the call server's figures")
        standin_conn.send("done")
    finally:
        stop(processes)
    flush: list[float] = []
    for call_id, times in result["interrupts"].items():
        arrivals = client["audio"].get(call_id, [])
        for t in times:
            if window[0] <= t <= window[1]:
                after = [a for a in arrivals if t < a <= t + 0.5]
                flush.append(after[-1] - t if after else 0.0)
    live_seconds = result["sessions"] * result["window_seconds"]
    return {
        **result,
        "calls": calls,
        "pins": pins,
        "per_call_s": result["cpu_seconds"] / live_seconds if live_seconds else float("nan"),
        "cpu": result["cpu_seconds"] / result["window_seconds"],
        "jitter": client["jitter"],
        "flush": flush,
        "frames": client["frames"],
        "behind": client["behind"],
        "ready": ready,
        "harness": harness,
        "standin": harness_figures,
        "callers_cpu": client["cpu_seconds"] / result["window_seconds"],
        "callers_system": client["system_seconds"] / result["window_seconds"],
        "cores": client["cores"],
        "sent": client["sent"],
        "hung_up_by_server": client["hung_up_by_server"],
        "clock": client["clock"],
    }


def media_baseline(calls: int, seconds: float, nice: int = 0) -> float:
    """``bench/media.py``'s CPU per live call-second at ``calls``, same machine, same run,
    its server and callers at the same priority as this run's."""
    opts = {"keepalive": True, "provider": "echo", "loop": "auto", "load_loop": "auto",
            "per_write": 1, "phases": 8, "coalesce_ms": None, "metrics": False, "nice": nice}  # fmt: skip
    r = media_bench.run(calls, seconds, opts)
    return r["cpu_seconds"] / (r["sessions"] * r["window_seconds"])


# ---- the CPU split (cProfile) ---------------------------------------------------------------

CATEGORIES = (
    ("resampling", ("telephony/audio/resample.py", "soxr")),
    ("recording", ("runtime/call/recording.py", "telephony/audio/recording.py")),
    ("engine", ("runtime/engine/", "dsl/", "jinja2", "runtime/tools/")),
    (
        "provider socket",
        ("runtime/providers/", "openai/", "websockets/", "pydantic", "json/", "anyio/", "httpx/"),
    ),  # fmt: skip
    (
        "media",
        (
            "telephony/audiosocket/",
            "telephony/audio/playout.py",
            "telephony/audio/frames.py",
            "telephony/audio/g711.py",
        ),
    ),  # fmt: skip
    ("bridge", ("runtime/call/bridge.py",)),
)


def _category(filename: str) -> str | None:
    for name, parts in CATEGORIES:
        if any(p in filename for p in parts):
            return name
    return None


def split(profiler: cProfile.Profile) -> dict[str, float]:
    """CPU seconds of the profiled window by category, from each function's own time.

    Python functions count by their file; a C function (``{built-in ...}``: a socket write,
    ``json.dumps``, ``base64``, numpy, soxr) counts for the category of the Python function
    that called it, each caller's share separately. What nothing claims is ``event loop and
    asyncio`` (uvloop's C loop, asyncio's tasks and futures, the threads' hand-offs). The 15
    functions with the most own time come back as ``top: <file>:<function>`` entries.
    """
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    out: dict[str, float] = {}
    top = sorted(stats.items(), key=lambda kv: -kv[1][2])[:15]
    for (f, _, n), v in top:
        out[f"top: {f.rsplit('/', 2)[-1] if f != '~' else ''}:{n}"] = v[2]
    for (filename, _, name), (_, _, own, _, callers) in stats.items():
        category = _category(filename) if filename != "~" else _category(name)
        if category is None and filename == "~":
            for (cfile, _, _), (_, _, cown, _) in callers.items():
                key = _category(cfile) or "event loop and asyncio"
                out[key] = out.get(key, 0.0) + cown
            continue
        key = category or "event loop and asyncio"
        out[key] = out.get(key, 0.0) + own
    return out


# ---- the in-process floor --------------------------------------------------------------------


def floor(calls: int, seconds: float, fmt: str, append_ms: int = APPEND_MS) -> float:
    """CPU seconds per call-second of the same per-frame work with no socket and no loop.

    Per call and 20 ms: decode the caller's AudioSocket frame, record it, convert it to the
    provider's format (``pcmu``: μ-law; ``pcm24k``: resampled to 24 kHz a chunk of
    ``append_ms`` at a time, as the bridge does) and, once ``append_ms`` (``APPEND_MS``) of it
    is gathered, build the ``input_audio_buffer.append`` text as the adapter does (base64 into
    a fixed JSON text); encode the outgoing frame the playout buffer gives (agent audio half the time, else
    silence) and record the agent audio sent. Per 100 ms of agent audio: parse the delta's
    JSON, base64-decode it and queue it (``pcm24k``: the playout buffer resamples it to 8 kHz;
    ``pcmu``: μ-law decoded). Per second: the engine's ``Tick``.
    """
    flow = load_flow(FLOW)
    rate = 24000 if fmt == "pcm24k" else 8000
    width = 2 if fmt == "pcm24k" else 1
    chunk = width * rate * append_ms // 1000
    per_chunk = max(1, append_ms // 20)  # line frames per resampled chunk (the bridge's batch)
    delta = json.dumps({"type": "response.output_audio.delta", "response_id": "r", "item_id": "i",
                        "output_index": 0, "content_index": 0,
                        "delta": base64.b64encode(bytes(width * rate * DELTA_MS // 1000)).decode()})  # fmt: skip
    directory = Path(tempfile.mkdtemp(prefix="voxflow-bench-floor-"))
    state = []
    for i in range(calls):
        engine = call_engine(
            CallSpec(flow=flow, call_id=f"c{i}", now=datetime.now(UTC), contact=CONTACT)
        )
        engine.start(None)
        state.append((engine, Resampler(8000, rate), PlayoutBuffer(8000), bytearray(),
                      StereoRecorder(directory, f"c{i}"), codec.Decoder(), []))  # fmt: skip
    incoming = codec.audio(SPEECH)
    header = codec.audio_header(8000, FRAME)
    sink: list[object] = []
    cpu0 = time.process_time()
    for tick in range(int(seconds * 50)):
        for engine, resampler, playout, pending, recorder, decoder, line in state:
            decoder.feed_into(incoming, sink.append, lambda m: None)
            frame: AudioFrame = sink.pop()  # type: ignore[assignment]
            recorder.caller(frame)
            if width == 1:
                pending += ulaw_encode(frame)
            else:
                line.append(frame)
                if len(line) == per_chunk:
                    pending += resampler.process(
                        checked_frame(b"".join([f.pcm for f in line]), 8000)
                    ).pcm
                    line.clear()
            if len(pending) >= chunk:
                APPEND_HEAD + b2a_base64(pending, newline=False).decode("ascii") + '"}'
                pending.clear()
            if tick % 5 == 0 and (tick // 150) % 2 == 0:
                raw = base64.b64decode(json.loads(delta)["delta"])
                playout.push(AudioFrame(raw, rate) if width == 2 else ulaw_decode(raw))
            out = playout.pop()
            bytes(header + (out if out is not None else SILENCE))
            if out is not None:
                recorder.sent(checked_frame(out, 8000), continues=True)
            if tick % 50 == 0:
                engine.handle(Tick(datetime.now(UTC)))
    cpu = time.process_time() - cpu0
    for *_, recorder, _, _ in state:
        recorder.discard()
    shutil.rmtree(directory, ignore_errors=True)
    return cpu / (calls * seconds)


def _print_stalls(
    stalls: list[tuple[float, float, str, float, float, float]], gc_runs: list
) -> None:
    """Stalls of the server's loop in the window: how many, how long, and what was running."""
    ms = 1000.0
    total = sum(s[1] for s in stalls)
    ran = sum(s[3] for s in stalls)
    waited = sum(s[4] for s in stalls)
    print(f"      loop stalls > 10 ms: {len(stalls)}, {total * ms:.0f} ms in all, longest "
          f"{max((s[1] for s in stalls), default=0) * ms:.0f} ms (loop thread on a CPU "
          f"{ran * ms:.0f} ms of it, runnable but not scheduled {waited * ms:.0f} ms); GC runs: "
          f"{', '.join(f'gen{g} {p * ms:.1f} ms' for g, p in gc_runs if p > 0.005) or 'none > 5 ms'}")  # fmt: skip
    by_stack: dict[str, list[float]] = {}
    for _, d, stack, *_ in stalls:
        by_stack.setdefault(stack, []).append(d)
    for _, d, _, on_cpu, waited_, process in sorted(stalls, key=lambda s: -s[1])[:5]:
        print(f"        stall {d * ms:.0f} ms: loop thread on a CPU {on_cpu * ms:.0f} ms, waiting "
              f"for one {waited_ * ms:.0f} ms, whole process CPU {process * ms:.0f} ms")  # fmt: skip
    for stack, ds in sorted(by_stack.items(), key=lambda kv: -sum(kv[1]))[:8]:
        print(f"        {len(ds)}x, {sum(ds) * ms:.0f} ms, longest {max(ds) * ms:.0f} ms: {stack}")


def _print_census(census: dict, sessions: int) -> None:
    """Generation 2 at each full collection in the window, and its growth over the window."""
    start, end = census["start"], census["end"]
    print(f"      generation 2 (not frozen): {sum(start.values())} objects at the window's start, "
          f"{sum(end.values())} at its end; collections per generation since start-up "
          f"{[s['collections'] for s in census['stats']]}")  # fmt: skip
    walked, full_ms = census["full"]
    print(f"      {sum(start.values()) / max(1, sessions):.1f} objects per live call in generation 2 at "
          f"the window's start; a full collection timed after the window, every call live: "
          f"{walked} objects walked ({walked / max(1, sessions):.1f} per live call), {full_ms:.1f} ms")  # fmt: skip
    promoted = census["promoted"]
    print(f"      frozen at start-up {census['frozen']}; promoted to generation 2 in the window: "
          f"{sum(promoted.values())} objects (generation-1 survivors); by type:")  # fmt: skip
    for name, n in sorted(promoted.items(), key=lambda kv: -kv[1])[:20]:
        print(f"        {n:>8} {name}")
    garbage = census["garbage"]
    print(f"      cyclic garbage the ended calls left: {sum(garbage.values())} objects, "
          f"{sum(garbage.values()) / max(1, sessions):.1f} per call; by type:")  # fmt: skip
    for name, n in sorted(garbage.items(), key=lambda kv: -kv[1])[:12]:
        print(f"        {n:>8} {name}")
    growth = {k: end.get(k, 0) - start.get(k, 0) for k in set(start) | set(end)}
    for name, n in sorted(growth.items(), key=lambda kv: -abs(kv[1]))[:12]:
        print(
            f"        {n:>+8} {name} (at start {start.get(name, 0)}, {start.get(name, 0) / max(1, sessions):.1f} per call)"
        )
    for at, n, top, counts in census["runs"]:
        print(f"      full collection at {at:+.1f} s of the window: {n} objects in generation 2, "
              f"young counts {counts}; by type:")  # fmt: skip
        for name, k in top:
            print(f"        {k:>8} {name} ({k / max(1, sessions):.1f} per call)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--format", choices=["pcm24k", "pcmu"], default="pcm24k")
    parser.add_argument("--profile", type=int, default=None, metavar="N",
                        help="one more run at N calls under cProfile for the CPU split")  # fmt: skip
    parser.add_argument("--stalls", action="store_true",
                        help="watch the server's loop for stalls > 10 ms and print what ran")  # fmt: skip
    parser.add_argument("--shared-session", action="store_true",
                        help="leave the server in the bench's session (scheduler autogroup)")  # fmt: skip
    parser.add_argument("--nice", type=int, default=0,
                        help="the server's nice value (and its autogroup's); < 0 needs root")  # fmt: skip
    parser.add_argument("--no-settle-heap", action="store_true",
                        help="skip the worker's gc.freeze() after start-up (the 'before' figure)")  # fmt: skip
    parser.add_argument("--gc-threshold0", type=int, default=None, metavar="N",
                        help="experiment: gc.set_threshold(N, ...) in the server after start-up (CPython's default 700)")  # fmt: skip
    parser.add_argument("--gc-census", action="store_true",
                        help="count generation 2 by type at each full collection (diagnostic: slows it)")  # fmt: skip
    parser.add_argument("--no-baseline", action="store_true", help="skip bench/media.py's runs")
    parser.add_argument("--ramp", type=float, default=None, metavar="CALLS_PER_S",
                        help="new calls a second while the calls start (default 50, 25 above 200 calls)")  # fmt: skip
    parser.add_argument("--append-ms", type=int, default=None, metavar="MS",
                        help="caller audio per input_audio_buffer.append (the product's default: 40)")  # fmt: skip
    parser.add_argument("--harness", choices=["lean", "reference"], default="lean",
                        help="the stand-in's transport and the callers: lean (bench/callers.py, "
                        "tests/standins/wsserver.py) or reference (uvicorn + starlette, a task per frame group)")  # fmt: skip
    parser.add_argument("--phases", type=int, default=8,
                        help="lean callers: groups the 20 ms clock spreads the callers' writes over (1: one pass)")  # fmt: skip
    parser.add_argument("--callers-nice", type=int, default=-5, metavar="N",
                        help="the callers' nice relative to the stand-in's (with --nice; e.g. -5: "
                        "Asterisk's media before the remote service's replies on the shared core)")  # fmt: skip
    parser.add_argument("--connect-timeout", type=float, default=30.0, metavar="S",
                        help="how long a call's provider session may take to open (the product's is 10 s)")  # fmt: skip
    args = parser.parse_args()
    server_opts = {
        "own_session": not args.shared_session,
        "nice": args.nice,
        "settle_heap": not args.no_settle_heap,
        "connect_timeout": args.connect_timeout,
        "append_ms": args.append_ms,
        "gc_census": args.gc_census,
        "gc_threshold0": args.gc_threshold0,
        "harness": args.harness,
        "phases": args.phases,
        "callers_nice": args.callers_nice,
    }
    ms = 1000.0
    print(
        f"cpus: {os.cpu_count()}, audio format: {args.format}, window: {args.seconds:.0f} s per run, "
        f"harness: {args.harness}" + (f" ({args.phases} phases)" if args.harness == "lean" else "")
    )
    print(f"{'calls':>5} {'load':>5} {'CPU':>6} {'whole ms/call-s':>15} {'media ms/call-s':>15} "
          f"{'ratio':>5} {'floor':>6} {'late p99':>8} {'jit p50':>7} {'jit p99':>7} "
          f"{'flush p50':>9} {'flush p99':>9} {'barge':>5} {'fail':>4}")  # fmt: skip
    for calls in args.calls:
        load = os.getloadavg()[0]
        baseline = (
            float("nan")
            if args.no_baseline
            else media_baseline(calls, min(args.seconds, 10.0), args.nice)
        )
        r = run(
            calls,
            args.seconds,
            fmt=args.format,
            stalls=args.stalls,
            ramp=args.ramp or (50.0 if calls <= 200 else 25.0),
            **server_opts,
        )
        low = floor(min(calls, 50), 4.0, args.format, args.append_ms or APPEND_MS)
        print(
            f"{calls:>5} {load:>5.2f} {r['cpu'] * 100:>5.1f}% {r['per_call_s'] * ms:>13.2f}ms "
            f"{baseline * ms:>13.2f}ms {r['per_call_s'] / baseline:>5.2f} {low * ms:>4.2f}ms "
            f"{_pct(r['lateness'], 0.99) * ms:>6.2f}ms {_pct(r['jitter'], 0.5) * ms:>5.2f}ms "
            f"{_pct(r['jitter'], 0.99) * ms:>5.2f}ms {_pct(r['flush'], 0.5) * ms:>7.2f}ms "
            f"{_pct(r['flush'], 0.99) * ms:>7.2f}ms {len(r['flush']):>5} {r['failed']:>4}",
            flush=True,
        )
        print(f"      calls up at the start {r['ready']}, live at the end {r['live']}/{calls}; server RSS {r['rss_before'] / 1024:.0f} -> {r['rss_live'] / 1024:.0f} MiB, {(r['rss_live'] - r['rss_before']) / max(1, r['sessions']):.0f} KiB per live call; GC runs {len(r['gc'])}, longest {max((p for _, p in r['gc']), default=0) * ms:.0f} ms (gen2: {', '.join(f'{p * ms:.1f} ms' for g, p in r['gc'] if g == 2) or 'none'}; longest gen0 {max((p for g, p in r['gc'] if g == 0), default=0) * ms:.1f} ms, gen1 {max((p for g, p in r['gc'] if g == 1), default=0) * ms:.1f} ms, in all {sum(p for _, p in r['gc']) * ms:.0f} ms); engine steps in threads {r['engine_thread_seconds'] / r['cpu_seconds'] * 100:.1f} % of the CPU; "
              f"frames at callers {r['frames']} of {calls * 50 * args.seconds:.0f}; caller frames dropped (queue full) {r['dropped_incoming']}; ends {r['ends']}; load generator behind by {r['behind'] * ms:.0f} ms"
              + (f"; failures: {r['failures']}" if r["failures"] else ""), flush=True)  # fmt: skip
        standin = r["standin"]
        cores = ", ".join(
            f"{name} {share * 100:.0f} %" for name, share in sorted(r["cores"].items())
        )
        print(f"      harness on core 1: stand-in {standin['cpu_seconds'] / r['window_seconds'] * 100:.1f} % "
              f"(kernel {standin['system_seconds'] / r['window_seconds'] * 100:.1f} %), callers "
              f"{r['callers_cpu'] * 100:.1f} % (kernel {r['callers_system'] * 100:.1f} %) of a core; every process, by core: {cores}; "
              f"stand-in sessions {standin['sessions']}, open at the window's start {standin['open_at_start']}, "
              f"at its end {standin['open_at_end']}; caller frames sent in the window "
              f"{r['sent'] if r['sent'] is not None else 'not counted'}; calls the server hung up "
              f"{r['hung_up_by_server'] if r['hung_up_by_server'] is not None else 'not counted'}; "
              + (f"callers' clock firings more than 5 / 20 ms late: {r['clock'][1]} / {r['clock'][2]} of {r['clock'][0]}; "
                 if r["clock"] else "")
              + f"server read the window's end {r['live_late_s'] * ms:.0f} ms late", flush=True)  # fmt: skip
        if args.stalls:
            _print_stalls(r["stalls"], r["gc"])
        if r["census"] is not None:
            _print_census(r["census"], r["sessions"])
    if args.profile:
        ramp = args.ramp or (50.0 if args.profile <= 200 else 25.0)
        plain = run(args.profile, args.seconds, fmt=args.format, ramp=ramp, **server_opts)
        profiled = run(
            args.profile, args.seconds, fmt=args.format, profile=True, ramp=ramp, **server_opts
        )
        top = {k: v for k, v in profiled["split"].items() if k.startswith("top: ")}
        split_ = {k: v for k, v in profiled["split"].items() if not k.startswith("top: ")}
        profiled["split"] = split_
        total = sum(split_.values())
        print(f"CPU split at {args.profile} calls (cProfile, own time; load {os.getloadavg()[0]:.2f}): "
              f"{plain['per_call_s'] * ms:.2f} ms per call-second without the profiler, "
              f"{profiled['per_call_s'] * ms:.2f} ms with it")  # fmt: skip
        for name, seconds in sorted(profiled["split"].items(), key=lambda kv: -kv[1]):
            print(f"  {name:<24} {seconds / total * 100:5.1f} %")
        print("  functions with the most own time:")
        for name, seconds in sorted(top.items(), key=lambda kv: -kv[1]):
            print(f"    {name[5:]:<70} {seconds / total * 100:5.1f} %")
        engine_share = profiled["engine_thread_seconds"] / profiled["cpu_seconds"] * 100
        print(
            f"  (engine steps in worker threads, timed apart, not in the profile: {engine_share:.1f} % of the CPU)"
        )
    print(
        "load = 1-minute load average before the run; whole = server CPU (all threads) per live call-second;"
    )
    print(
        "media = bench/media.py (loopback echo provider) per live call-second, same run; floor = the same "
        "per-frame work in-process without sockets;"
    )
    print("late = outgoing agent frame - its 20 ms deadline (server); jit = |inter-arrival - 20 ms| of every frame "
          "at the caller; flush = interrupt() -> last agent frame at the caller; barge = barge-ins in the window.")  # fmt: skip


if __name__ == "__main__":
    main()
