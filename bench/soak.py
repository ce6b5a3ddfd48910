"""Soak: many whole calls through one worker process; its memory and open files sampled.

Run: ``.venv/bin/python bench/soak.py [--calls 1000] [--concurrency 8] [--every 5]
[--hold-ms MS] [--cached-workflows N] [--trace DIR] [--cache-probe]``

Stack (all real processes on loopback): the Temporal dev server and the embedded PostgreSQL
(in this process's children), one simulated PBX (``python -m telephony.sim``) whose callees
answer, wait for the agent's greeting and say "Yes, I'll be there", and one worker
(``python -m runtime.worker``: AudioSocket server, engine, local provider, stereo recorder
writing a WAV per call). One campaign of ``--calls`` contacts on ``flows/reminder.flow``,
``--concurrency`` calls at once. Each call: the greeting, the callee's answer, the move to
``confirmed``, the goodbye, the hang-up; a few seconds of audio each way.

Every ``--every`` seconds: the worker's resident memory (``VmRSS`` in ``/proc/<pid>/status``),
its open file descriptors (``/proc/<pid>/fd``), the calls finished so far and the calls live
on the PBX at that moment (answered minus ended, from the PBX's own log). Printed at the end:
RSS after the first tenth of the calls (warm: imports, caches, pools) and at the end, the
slope of RSS against calls finished over the last nine tenths (growth per 1,000 calls, which
a leak shows and live calls do not), memory per live call (from the samples, RSS against live
calls), and fds likewise.

``--cache-probe`` measures what a cached workflow run costs instead: the campaign's calling
window opens only in two days, so every contact's workflow starts and sleeps until then, each
a running run the worker caches (up to ``VOXFLOW_MAX_CACHED_WORKFLOWS``); printed once the
cache stops growing: runs cached (the SDK's ``temporal_sticky_cache_size``) and RSS, against
the idle worker before the campaign. No call is placed.

``--hold-ms MS`` has each callee keep quiet that long after the greeting before answering
(under the flow's 6 s silence re-prompt), so calls last longer and more of them are live at
once: RSS against live calls is what each live call costs. ``--cached-workflows N`` sets the worker's ``VOXFLOW_MAX_CACHED_WORKFLOWS``. ``--trace DIR`` runs the
worker as ``bench/traced_worker.py``, which writes its heap at each tenth of the calls and
once idle after the campaign, with metrics on (``VOXFLOW_METRICS``); printed: Python's
allocated blocks and the SDK's ``temporal_sticky_cache_size`` (workflow runs cached) beside
RSS at each point
(RSS growing while the blocks do not is memory outside Python's heap), the blocks' slope per
1,000 calls, and the object types whose count grew from the first tenth to the idle end. With
``BENCH_TRACEMALLOC=1`` in the environment the worker also writes ``tracemalloc`` snapshots
and the source lines that allocated what was still held are printed (slow: short runs only).

Native memory (``--trace``): with every sample the soak sends the worker ``SIGUSR2``, which
appends glibc's ``mallinfo2`` figures, its arenas, the worker's threads and ``smaps_rollup``
(``bench/native_memory.py``) to ``DIR/native.jsonl``; each sample, the soak also describes
the campaign workflow, so a new run id (the campaign continued as new) is recorded with the
calls ended then and the history length of the run before. Written to ``DIR/samples.jsonl``
and printed: the native figures at each tenth, the campaign's runs, and the samples around
the largest rise of RSS within one minute. ``--worker-env NAME=VALUE`` (repeatable) adds to
the worker's environment (``MALLOC_ARENA_MAX=16``: glibc's default on 2 cores, over the worker's own cap). The worker's
CPU seconds (``/proc/<pid>/stat``) per call are printed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsl import load_flow  # noqa: E402
from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule, Pacing  # noqa: E402
from runtime.client import start_campaign  # noqa: E402
from runtime.contacts.importer import Contact  # noqa: E402
from runtime.db import connect as db_connect  # noqa: E402
from runtime.db import contacts, create_pool, migrate  # noqa: E402
from runtime.db.campaigns import create_campaign  # noqa: E402
from runtime.db.flows import save_flow  # noqa: E402
from runtime.dev.postgres import start_embedded  # noqa: E402
from runtime.dev.temporal import free_port, start_dev_server, stop_process  # noqa: E402
from runtime.workflows.messages import SHARED_TASK_QUEUE, CampaignPlan  # noqa: E402
from telephony.sim import read_log  # noqa: E402
from tests.faults.processes import start_sim, start_worker, worker_env  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from native_memory import smaps_rollup, threads  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_s(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _live(log: Path) -> tuple[int, int]:
    """(calls live on the PBX now, calls ended) from its log."""
    answered = ended = 0
    for r in read_log(log):
        if r.get("type") == "result" and r.get("result") == "answered":
            answered += 1
        elif r.get("type") == "hangup":
            ended += 1
    return max(0, answered - ended), ended


def _slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def _cached_runs(port: int) -> float:
    """``temporal_sticky_cache_size`` from the SDK's metrics endpoint (summed over workers)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("temporal_sticky_cache_size")
    )


async def _probe_cache(pid: int, port: int, idle_kib: int, every: float, runs: int) -> None:
    """Sample runs cached and RSS until ``runs`` are cached and then 6 samples more, or the
    cache has not grown for 36 samples (it is full: ``VOXFLOW_MAX_CACHED_WORKFLOWS``)."""
    last, still, after = -1.0, 0, 0
    points: list[tuple[float, int]] = []
    while still < 36 and after < 6:
        await asyncio.sleep(every)
        cached = await asyncio.to_thread(_cached_runs, port)
        still = still + 1 if cached <= last else 0
        last = max(last, cached)
        after += last >= runs
        rss = _rss_kib(pid)
        points.append((cached, rss))
        print(f"  runs cached {cached:5.0f}  RSS {rss / 1024:7.1f} MiB  load {os.getloadavg()[0]:.2f}",
              flush=True)  # fmt: skip
    rss = _rss_kib(pid)
    print(f"cache probe: {last:.0f} sleeping contact workflow runs cached; RSS {idle_kib / 1024:.1f} "
          f"MiB idle before the campaign, {rss / 1024:.1f} MiB now: "
          f"{(rss - idle_kib) / max(last, 1):.1f} KiB per cached run "
          f"(the campaign's own run and its state included); slope of RSS against runs cached "
          f"{_slope([c for c, _ in points], [r for _, r in points]):.1f} KiB per run")  # fmt: skip


def _print_heap(trace: Path, points: list[tuple[int, int, float]]) -> None:
    """Python's heap at each (calls ended, RSS KiB, cached runs) point, from the worker's
    ``heap-<n>.json``."""
    heaps = [json.loads((trace / f"heap-{n}.json").read_text()) for n in range(len(points))]
    print("heap: calls ended, RSS, Python allocated blocks, objects tracked by the collector, "
          "workflow runs cached")  # fmt: skip
    for (ended, rss, cached), heap in zip(points, heaps, strict=True):
        print(f"  {ended:6d}  {rss / 1024:7.1f} MiB  {heap['blocks']:9d}  "
              f"{sum(heap['types'].values()):8d}  {cached:5.0f}")  # fmt: skip
    during = [(e, h["blocks"]) for (e, _, _), h in zip(points[:-1], heaps, strict=False)]
    slope = _slope([e for e, _ in during], [b for _, b in during]) * 1000
    print(f"  blocks' growth during the campaign: {slope:+.0f} per 1,000 calls")
    first, last = heaps[0]["types"], heaps[-1]["types"]
    grown = sorted(((n - first.get(t, 0), t) for t, n in last.items()), reverse=True)
    print("  object types grown, first point -> idle end: "
          + ", ".join(f"{t} {d:+d}" for d, t in grown[:12] if d > 0))  # fmt: skip
    if (trace / "snap-0.pickle").exists():
        old = tracemalloc.Snapshot.load(str(trace / "snap-0.pickle"))
        new = tracemalloc.Snapshot.load(str(trace / f"snap-{len(points) - 1}.pickle"))
        print("  tracemalloc, allocated after the first point and held at the idle end:")
        for stat in new.compare_to(old, "lineno")[:15]:
            print(f"  {stat.size_diff / 1024:+8.1f} KiB {stat.count_diff:+7d}  {stat.traceback[0]}")


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:6.1f}"


def _native_row(sample: dict, native: list[dict]) -> str:  # type: ignore[type-arg]
    """One soak sample beside the worker's native figures nearest to it in time."""
    near = min(native, key=lambda n: abs(n["time"] - sample["time"]))
    m = near["mallinfo2"]
    return (f"  {sample['ended']:6d} {sample['live']:3d}  {sample['rss_kib'] / 1024:6.1f} "
            f"{sample['anonymous_kib'] / 1024:6.1f} {sample['threads']:3d}  "
            f"{sample['run_id'][:8]} {sample['history']:5d};  {_mib(m['arena'])} "
            f"{_mib(m['uordblks'])} {_mib(m['fordblks'])} {_mib(m['hblkhd'])} {near['arenas']:3d}")  # fmt: skip


def _print_native(trace: Path, points: list[tuple[int, int, float]],
                  runs: list[tuple[int, str, int]]) -> None:  # fmt: skip
    """glibc's arenas, the threads and anonymous memory at each point; the campaign's runs,
    with the samples on either side of each continue-as-new; and the samples around the
    largest one-minute rise of RSS after the first tenth."""
    heaps = [json.loads((trace / f"heap-{n}.json").read_text()) for n in range(len(points))]
    print("native: calls ended, RSS, Anonymous, glibc arena / in use / free in arenas / "
          "mmap'd / keepcost (MiB), arenas, threads")  # fmt: skip
    for (ended, _, _), heap in zip(points, heaps, strict=True):
        n, m = heap["native"], heap["native"]["mallinfo2"]
        print(f"  {ended:6d}  {n['rss_kib'] / 1024:6.1f}  {n['anonymous_kib'] / 1024:6.1f}  "
              f"{_mib(m['arena'])} {_mib(m['uordblks'])} {_mib(m['fordblks'])} "
              f"{_mib(m['hblkhd'])} {_mib(m['keepcost'])}  {n['arenas']:3d}  {n['threads']:3d}")  # fmt: skip
    print("campaign runs (continue-as-new): "
          + "; ".join(f"from {e} calls ended, run {r[:8]}, {h} events" for e, r, h in runs))  # fmt: skip
    samples = [json.loads(line) for line in (trace / "samples.jsonl").read_text().splitlines()]
    native = [json.loads(line) for line in (trace / "native.jsonl").read_text().splitlines()]
    legend = ("(calls ended, live, RSS, Anonymous, threads, campaign run, its events; glibc "
              "arena / in use / free / mmap'd, arenas)")  # fmt: skip
    print(f"each continue-as-new, the samples before and after {legend}:")
    for before, after in itertools.pairwise(samples):
        if before["run_id"] != after["run_id"]:
            print(_native_row(before, native) + "\n" + _native_row(after, native))
    samples = [s for s in samples if s["ended"] >= points[0][0]]  # past the warm-up
    if len(samples) < 14:
        return
    rise, at = max(
        (samples[i + 12]["rss_kib"] - samples[i]["rss_kib"], i) for i in range(len(samples) - 12)
    )
    print(f"largest rise of RSS within 12 samples after the first tenth: {rise / 1024:+.1f} MiB "
          f"from calls ended {samples[at]['ended']} to {samples[at + 12]['ended']}; the samples "
          f"around it {legend}:")  # fmt: skip
    for sample in samples[max(0, at - 4) : at + 17]:
        print(_native_row(sample, native))


async def soak(
    calls: int,
    concurrency: int,
    every: float,
    cached: int | None,
    trace: Path | None,
    hold_ms: int = 0,
    cache_probe: bool = False,
    worker_extra: dict[str, str] | None = None,
) -> None:
    # SIGTERM cancels the run, so the processes and servers it started are stopped.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        pg = await asyncio.to_thread(start_embedded, tmp / "pg")
        temporal = await start_dev_server(tmp / "temporal", ui=False, persistent=False)
        processes = []
        try:
            conn = await db_connect(pg.url)
            await migrate(conn)
            await conn.close()
            pool = await create_pool(pg.url)
            client = await temporal.client()
            days = (1, 2, 3, 4, 5, 6, 7)
            if cache_probe:  # open only the day after tomorrow (UTC, the contacts' zone)
                days = ((datetime.now(UTC).isoweekday() + 1) % 7 + 1,)
            campaign = Campaign(
                name="soak",
                contacts=ContactsSource(kind="csv", location="none.csv"),
                windows=(CallingWindow(days=days, start="00:00", end="00:00"),),
                rules=tuple(
                    OutcomeRule(o, "final")
                    for o in (
                        "confirmed",
                        "rescheduled",
                        "cancelled",
                        "completed",
                        "hung_up",
                        "no_answer",
                        "busy",
                        "failed",
                        "unknown",
                    )
                ),  # fmt: skip
                pacing=Pacing(max_concurrent=concurrency),
                ring_timeout_ms=10_000,
            )
            flow = dataclasses.replace(
                load_flow(ROOT / "flows" / "reminder.flow"), campaign=campaign
            )
            flow_hash = await save_flow(pool, flow)
            await create_campaign(pool, "soak", flow_hash)
            fields = {"first_name": "Ada", "appointment_at": "2026-12-08T15:30:00+00:00"}
            await contacts.store_contacts(
                pool,
                "soak",
                [Contact(f"s{i:05d}", f"+1212555{i:04d}", "UTC", "default", "Ada", i, {},
                         {**fields, "id": f"s{i:05d}", "phone": f"+1212555{i:04d}"})
                 for i in range(calls)],
            )  # fmt: skip
            scenarios, log = tmp / "scenarios.json", tmp / "pbx.jsonl"
            # "Hello?" on pick-up: the simulated AMD (telephony/sim/scenarios.py) hears a person
            # and the call reaches the agent; a callee silent until the agent speaks is a
            # machine, whose call never converses.
            hello: dict[str, object] = {"say": "Hello?", "wait_for_agent": False}
            script: list[dict[str, object]] = [hello, {"say": "Yes, I'll be there."}]
            if hold_ms:
                script = [hello, {"listen": True}, {"wait_ms": hold_ms},
                          {"say": "Yes, I'll be there.", "wait_for_agent": False}]  # fmt: skip
            scenarios.write_text(json.dumps({
                "ring_ms": 200, "max_concurrent": concurrency * 2,
                "default": {"answer_after_rings": 1, "script": script},
            }))  # fmt: skip
            sim, ami_port = await start_sim(scenarios, log, tmp / "sim.out")
            processes.append(sim)
            env = worker_env(temporal.address, pg.url, ami_port)
            env.update(
                {"VOXFLOW_STATE_DIR": str(tmp / "state"), "VOXFLOW_MAX_CALLS": str(concurrency * 2)}
            )
            if cached is not None:
                env["VOXFLOW_MAX_CACHED_WORKFLOWS"] = str(cached)
            env.update(worker_extra or {})
            out = tmp / "worker.out"
            if trace is not None:  # these are appended to, so a folder used before starts anew
                for old in ("samples.jsonl", "native.jsonl"):
                    (trace / old).unlink(missing_ok=True)
            command = ("-m", "runtime.worker")
            sdk_metrics = free_port()
            if trace is not None:
                command = (str(ROOT / "bench" / "traced_worker.py"), str(trace))
            if trace is not None or cache_probe:
                env.update({"VOXFLOW_METRICS": "1", "VOXFLOW_METRICS_PORT": str(free_port()),
                            "VOXFLOW_TEMPORAL_METRICS_PORT": str(sdk_metrics)})  # fmt: skip
            worker = await start_worker(env, out, command)
            processes.append(worker)
            while b"voxflow worker: queue" not in (out.read_bytes() if out.exists() else b""):
                if worker.returncode is not None:
                    raise RuntimeError(out.read_text())
                await asyncio.sleep(0.2)
            print(f"worker pid {worker.pid} up; RSS {_rss_kib(worker.pid) / 1024:.1f} MiB, "
                  f"fds {_fds(worker.pid)}; load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
            start = time.monotonic()
            handle = await start_campaign(client, CampaignPlan("soak", flow_hash, campaign),
                                          page_size=100, max_live=2000, task_queue=SHARED_TASK_QUEUE)  # fmt: skip
            if cache_probe:
                idle = _rss_kib(worker.pid)
                await _probe_cache(worker.pid, sdk_metrics, idle, every, calls + 1)
                await handle.terminate("cache probe done")
                await pool.close()
                return
            result_task = asyncio.create_task(handle.result())
            samples: list[tuple[float, int, int, int, int]] = []
            points: list[tuple[int, int, float]] = []
            runs: list[tuple[int, str, int]] = []  # (calls ended, run id, its history length)
            campaign_wf = client.get_workflow_handle(handle.id)
            cpu_start = _cpu_s(worker.pid)
            while not result_task.done():
                live, ended = _live(log)
                if trace is not None:
                    worker.send_signal(signal.SIGUSR2)
                    described = await campaign_wf.describe()
                    if not runs or runs[-1][1] != described.run_id:
                        runs.append((ended, described.run_id, described.history_length))
                    runs[-1] = (runs[-1][0], runs[-1][1], described.history_length)
                    rollup = smaps_rollup(worker.pid)
                    with (trace / "samples.jsonl").open("a") as out_samples:
                        out_samples.write(json.dumps({
                            "time": time.time(), "ended": ended, "live": live,
                            "rss_kib": rollup.get("Rss", 0),
                            "anonymous_kib": rollup.get("Anonymous", 0),
                            "threads": threads(worker.pid), "run_id": described.run_id,
                            "history": described.history_length,
                        }) + "\n")  # fmt: skip
                if (
                    trace is not None
                    and len(points) < 9
                    and ended >= (len(points) + 1) * calls / 10
                ):
                    worker.send_signal(signal.SIGUSR1)
                    cached = await asyncio.to_thread(_cached_runs, sdk_metrics)
                    points.append((ended, _rss_kib(worker.pid), cached))
                samples.append((time.monotonic() - start, ended, live,
                                _rss_kib(worker.pid), _fds(worker.pid)))  # fmt: skip
                if len(samples) % 12 == 1:
                    t, e, lv, rss, fd = samples[-1]
                    print(f"  {t:6.0f} s  calls ended {e:5d}  live {lv:3d}  RSS {rss / 1024:7.1f} MiB"
                          f"  fds {fd:4d}  load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
                await asyncio.wait({result_task}, timeout=every)
            result = result_task.result()
            elapsed = time.monotonic() - start
            cpu = _cpu_s(worker.pid) - cpu_start
            await asyncio.sleep(3)
            idle_rss, idle_fds = _rss_kib(worker.pid), _fds(worker.pid)
            if trace is not None:
                worker.send_signal(signal.SIGUSR1)
                cached = await asyncio.to_thread(_cached_runs, sdk_metrics)
                points.append((_live(log)[1], idle_rss, cached))
                for _ in range(600):  # a tracemalloc snapshot of a large heap takes a while
                    if (trace / f"heap-{len(points) - 1}.json").exists():
                        break
                    await asyncio.sleep(1)
            answered = sum(1 for r in read_log(log) if r.get("result") == "answered")
            await pool.close()
        finally:
            for process in reversed(processes):
                await stop_process(process)
            await temporal.stop()
            await asyncio.to_thread(pg.stop)
    warm = [s for s in samples if s[1] >= calls / 10]
    print(f"{calls} contacts, {result.finished} settled, {answered} answered calls, in {elapsed:.0f} s "
          f"({concurrency} at once); outcomes {dict(result.outcomes)}")  # fmt: skip
    if warm:
        rss_slope = _slope([s[1] for s in warm], [s[3] for s in warm]) * 1000 / 1024
        fd_slope = _slope([s[1] for s in warm], [s[4] for s in warm]) * 1000
        per_live = _slope([s[2] for s in warm], [s[3] for s in warm])
        print(f"RSS warm (after {calls // 10} calls) {warm[0][3] / 1024:.1f} MiB, max "
              f"{max(s[3] for s in warm) / 1024:.1f} MiB, end {warm[-1][3] / 1024:.1f} MiB, "
              f"idle after the campaign {idle_rss / 1024:.1f} MiB")  # fmt: skip
        late = [s for s in samples if s[1] >= calls / 2]
        late_slope = _slope([s[1] for s in late], [s[3] for s in late]) * 1000 / 1024
        print(f"RSS growth over the last nine tenths: {rss_slope:+.2f} MiB per 1,000 calls "
              f"(least squares), over the second half {late_slope:+.2f}; memory per live call: "
              f"{per_live:.0f} KiB (RSS against live calls)")  # fmt: skip
        print(f"second half: mean live calls {sum(s[2] for s in late) / max(len(late), 1):.1f}, "
              f"RSS {min(s[3] for s in late) / 1024:.1f}-{max(s[3] for s in late) / 1024:.1f} MiB")  # fmt: skip
        peak = max(samples, key=lambda s: (s[2], s[3]))
        print(f"most calls live at once: {peak[2]} (RSS then {peak[3] / 1024:.1f} MiB); "
              f"RSS at most {max(s[3] for s in samples) / 1024:.1f} MiB")  # fmt: skip
        print(f"fds warm {warm[0][4]}, max {max(s[4] for s in warm)}, end {warm[-1][4]}, idle {idle_fds}; "
              f"growth {fd_slope:+.2f} per 1,000 calls")  # fmt: skip
    print(f"worker CPU during the campaign {cpu:.0f} s: {cpu / max(answered, 1) * 1000:.0f} ms per "
          f"answered call")  # fmt: skip
    if trace is not None and len(points) > 1:
        _print_heap(trace, points)
        _print_native(trace, points, runs)
    print(f"load average at the end: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--hold-ms", type=int, default=0,
                        help="each callee keeps quiet this long after the greeting")  # fmt: skip
    parser.add_argument("--cache-probe", action="store_true",
                        help="measure RSS per cached (sleeping) workflow run; no calls")  # fmt: skip
    parser.add_argument("--cached-workflows", type=int, default=None,
                        help="the worker's VOXFLOW_MAX_CACHED_WORKFLOWS (default: its default)")  # fmt: skip
    parser.add_argument("--worker-env", action="append", default=[], metavar="NAME=VALUE",
                        help="add to the worker's environment (repeatable)")  # fmt: skip
    parser.add_argument("--trace", type=Path, default=None,
                        help="sample the worker's Python heap into this folder")  # fmt: skip
    args = parser.parse_args()
    asyncio.run(
        soak(
            args.calls,
            args.concurrency,
            args.every,
            args.cached_workflows,
            args.trace,
            args.hold_ms,
            args.cache_probe,
            dict(item.split("=", 1) for item in args.worker_env),
        )
    )


if __name__ == "__main__":
    main()
