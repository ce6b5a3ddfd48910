"""`voxflow dev` against an Asterisk given by AMI_HOST (here the simulated PBX stands in for it):
an honest banner, the fixed AudioSocket port the dialplan names, inbound calls reaching the
worker there, and SIGTERM stopping every process it started."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

import psutil
import pytest

from runtime.dev.temporal import free_port
from telephony.sim import SimPBX, parse_scenarios
from tests.dev.voxflow_dev import until_listening, voxflow_dev

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


async def test_dev_with_ami_host_serves_inbound_calls_on_the_fixed_port_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    scenarios = parse_scenarios({"default": {"script": [{"say": "Hello?"}]}})
    port = free_port()
    async with SimPBX(scenarios, log_path=tmp_path / "sim.jsonl", secret="pw") as pbx:
        host, ami_port = pbx.ami_address
        env = {
            **os.environ,
            "VOXFLOW_STATE_DIR": str(tmp_path / "state"),
            "AMI_HOST": host,
            "AMI_PORT": str(ami_port),
            "AMI_USERNAME": "voxflow",
            "AMI_SECRET": "pw",
            "AUDIOSOCKET_PORT": str(port),
            "VOXFLOW_INBOUND_FLOW": str(ROOT / "flows" / "dtmf_menu.flow"),
            "PYTHONPATH": str(ROOT),
        }
        pidfile = tmp_path / "state" / "pg" / "postmaster.pid"
        pg_pid = None
        async with voxflow_dev(env, tmp_path) as dev:
            assert re.search(rf"AMI +{host}:{ami_port} \(Asterisk, AMI_HOST\)", dev.banner)
            assert "simulated PBX" not in dev.banner
            assert f"AudioSocket 127.0.0.1:{port} (inbound calls)" in dev.banner
            if pidfile.exists():
                pg_pid = int(pidfile.read_text().split("\n", 1)[0])
            # What [globals] VOXFLOW_INBOUND_AUDIOSOCKET=127.0.0.1:<AUDIOSOCKET_PORT> does
            await until_listening(port)
            call = pbx.place_inbound(f"127.0.0.1:{port}", caller="+15551230000",
                                     did="+15550100", call_id=str(uuid.uuid4()))  # fmt: skip
            await asyncio.sleep(3)
            # the worker took the call and talks: the callee heard the menu
            assert call.media is not None and call.media.heard
        assert dev.exit_code == 0
        descendants = dev.descendants
        gone, alive = psutil.wait_procs(descendants, timeout=15)
        assert alive == [], [p.info if hasattr(p, "info") else p for p in alive]
        if pg_pid is not None:
            for _ in range(75):
                if not psutil.pid_exists(pg_pid):
                    break
                await asyncio.sleep(0.2)
            assert not psutil.pid_exists(pg_pid), "the embedded PostgreSQL is still running"
