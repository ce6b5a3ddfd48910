"""``voxflow worker --processes N``: each process its own AudioSocket port, queue and core."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

import pytest

from runtime.dev.temporal import die_with_parent, free_port, start_dev_server, stop_process
from runtime.worker_pool import CORE_ENV, child_env
from tests.faults.processes import ROOT, start_sim, worker_env


def test_each_child_gets_the_next_port_and_the_advertised_address_follows() -> None:
    env = {"AUDIOSOCKET_PORT": "9092", "AUDIOSOCKET_ADVERTISED_ADDRESS": "10.0.0.5:9092"}
    children = [child_env(env, i, cores=2) for i in range(3)]
    assert [c["AUDIOSOCKET_PORT"] for c in children] == ["9092", "9093", "9094"]
    assert [c["AUDIOSOCKET_ADVERTISED_ADDRESS"] for c in children] == [
        "10.0.0.5:9092",
        "10.0.0.5:9093",
        "10.0.0.5:9094",
    ]
    assert [c[CORE_ENV] for c in children] == ["0", "1", "0"]


def test_each_child_serves_its_metrics_on_ports_of_its_own() -> None:
    children = [child_env({}, i, cores=2) for i in range(3)]
    ports = [(c["VOXFLOW_METRICS_PORT"], c["VOXFLOW_TEMPORAL_METRICS_PORT"]) for c in children]
    assert ports == [("9464", "9465"), ("9466", "9467"), ("9468", "9469")]
    off = child_env({"VOXFLOW_TEMPORAL_METRICS_PORT": "0"}, 2, cores=2)
    assert off["VOXFLOW_TEMPORAL_METRICS_PORT"] == "0"  # 0 leaves them off in every child


def test_port_zero_stays_zero_and_one_core_pins_nothing() -> None:
    child = child_env({"AUDIOSOCKET_PORT": "0"}, 1, cores=1)
    assert child["AUDIOSOCKET_PORT"] == "0"
    assert CORE_ENV not in child


def test_an_advertised_address_without_a_port_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="host:port"):
        child_env({"AUDIOSOCKET_ADVERTISED_ADDRESS": "asterisk-net"}, 1, cores=2)


@pytest.mark.slow
async def test_two_processes_serve_two_ports_and_two_queues(pg_url: str, tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(json.dumps({"numbers": {}}))
    sim, ami_port = await start_sim(scenarios, tmp_path / "pbx.jsonl", tmp_path / "sim.out")
    temporal = await start_dev_server(tmp_path / "temporal", ui=False, persistent=False)
    pool = None
    out = tmp_path / "pool.out"
    try:
        base = free_port()
        env = {
            **worker_env(temporal.address, pg_url, ami_port),
            "AUDIOSOCKET_PORT": str(base),
            "VOXFLOW_STATE_DIR": str(tmp_path / "state"),
        }
        pool = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from runtime.cli import main; main()", "worker", "--processes", "2",
            cwd=ROOT, env=env, stdout=out.open("ab"), stderr=asyncio.subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        pattern = re.compile(r"voxflow worker: queue (\S+), audiosocket 127\.0\.0\.1:(\d+)")
        lines: list[tuple[str, str]] = []
        for _ in range(600):
            lines = pattern.findall(out.read_text() if out.exists() else "")
            if len(lines) == 2 or pool.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert len(lines) == 2, out.read_text()
        queues, ports = zip(*lines, strict=True)
        assert len(set(queues)) == 2
        assert sorted(int(p) for p in ports) == [base, base + 1]
        for port in (base, base + 1):  # both AudioSocket servers accept connections
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
        pool.send_signal(signal.SIGTERM)
        assert await pool.wait() == 0
    finally:
        if pool is not None:
            await stop_process(pool)
        await stop_process(sim)
        await temporal.stop()
