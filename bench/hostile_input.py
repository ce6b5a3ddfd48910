"""Hostile flows posted to the API: its memory, and how fast ``/health`` answers meanwhile.

Starts the API (``uvicorn`` on 127.0.0.1, an ephemeral port, no database needed: every flow
here is refused before one is used) in a child process, samples the child's resident memory
every 10 ms with psutil, and posts with a designer key:

1. the "billion laughs" YAML flow (360 bytes, nested aliases): refused with VF104;
2. the same padded to 1 MB: refused with 413 before parsing;
3. a 500 KB flow of 40,000 YAML values (just under the limits), compiled off the event loop
   while ``/health`` is asked every 20 ms.

Prints the status of each, the peak RSS, and the worst ``/health`` latency. Run it with
``.venv/bin/python bench/hostile_input.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
KEY = "bench-designer"
SERVER = """
import sys, uvicorn
from runtime.api import create_app
from runtime.settings import load_settings
settings = load_settings({"VOXFLOW_API_KEYS": "designer:%s"})
uvicorn.run(create_app(settings, db=object()), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning")
"""


def laughs() -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "agent:\n  name: x\n  junk:\n" + "".join(f"    {line}\n" for line in lines)


def many_values(count: int = 40_000) -> str:
    """Just under every limit: 40,000 values, 20 a line, under 512 KB."""
    rows = [", ".join(f"v{i}" for i in range(start, start + 20)) for start in range(0, count, 20)]
    return "agent:\n  name: big\n  junk: [\n" + ",\n".join(rows) + "\n  ]\n"


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", SERVER % KEY, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        proc = psutil.Process(child.pid)
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.01)

    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        idle = psutil.Process(child.pid).memory_info().rss
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        headers = {"X-API-Key": KEY}
        bomb = laughs()
        padded = bomb + "#" * (1024 * 1024 - len(bomb))
        big = many_values()
        results = []
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for name, source in (
                (f"alias bomb ({len(bomb)} B)", bomb),
                (f"alias bomb padded ({len(padded)} B)", padded),
            ):
                started = time.perf_counter()
                r = client.post("/campaigns", json={"source": source, "syntax": "yaml"})
                results.append(
                    (name, r.status_code, r.json().get("code"), time.perf_counter() - started)
                )
            latencies: list[float] = []
            done = threading.Event()

            def probe() -> None:
                with httpx.Client(base_url=base, timeout=30) as c:
                    while not done.is_set():
                        t = time.perf_counter()
                        c.get("/health")
                        latencies.append(time.perf_counter() - t)
                        time.sleep(0.02)

            prober = threading.Thread(target=probe)
            prober.start()
            time.sleep(0.1)
            started = time.perf_counter()
            r = client.post("/campaigns", json={"source": big, "syntax": "yaml"})
            elapsed = time.perf_counter() - started
            time.sleep(0.1)
            done.set()
            prober.join()
            body = r.json()
            codes = sorted({d["code"] for d in body.get("diagnostics", [])})
            results.append(
                (f"{len(big) // 1024} KB, 40,000 values", r.status_code, body.get("code"), elapsed)
            )
        stop.set()
        sampler.join()
        load = os.getloadavg()
        print(f"load average {load[0]:.1f}, {os.cpu_count()} cores")
        for name, status, code, seconds in results:
            print(f"{name:40s} -> {status} {code} in {seconds:.2f} s")
        print(f"large flow diagnostics: {', '.join(codes) or 'none'}")
        print(f"API RSS: idle {idle / 2**20:.0f} MB, peak {peak[0] / 2**20:.0f} MB")
        print(
            f"/health during the large compile: {len(latencies)} answers, worst"
            f" {max(latencies) * 1000:.0f} ms, median"
            f" {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms"
        )
        print(json.dumps({"peak_rss_mb": round(peak[0] / 2**20)}))
    finally:
        child.terminate()
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
