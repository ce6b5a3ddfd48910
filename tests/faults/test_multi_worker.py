"""Two machines' worth of voxflow on one dev server: two workers, each beside its own simulated
PBX, one campaign spread over both by Temporal; one worker is SIGKILLed mid-campaign.

Ground truth is each simulated PBX's own log (originates and results), not voxflow's records.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from runtime.client import start_campaign
from runtime.contacts.importer import Contact
from runtime.db import attempts, contacts, create_pool
from runtime.db.campaigns import create_campaign
from runtime.db.flows import save_flow
from runtime.dev.temporal import start_dev_server, stop_process
from runtime.workflows.messages import SHARED_TASK_QUEUE
from telephony.sim import originates_per_attempt, read_log
from tests.faults.processes import start_sim, start_worker, worker_env
from tests.faults.test_worker_sigkill import (
    CONTACTS,
    EXPECTED,
    SCRIPT,
    fault_flow,
    number,
    plan,
    write_scenarios,
)

LINES = 8
"""Each PBX's line limit; each worker takes at most that many calls (``VOXFLOW_MAX_CALLS``)."""


@pytest.mark.slow
async def test_two_workers_two_pbxs_one_killed_every_contact_settled_once(
    pg_url: str, tmp_path: Path
) -> None:
    pool = await create_pool(pg_url)
    sims: list[asyncio.subprocess.Process] = []
    workers: list[asyncio.subprocess.Process | None] = [None, None]
    temporal = None
    try:
        flow = fault_flow(plan("").campaign)
        flow_hash = await save_flow(pool, flow)
        await create_campaign(pool, "fault", flow_hash)
        await contacts.store_contacts(
            pool,
            "fault",
            [
                Contact(f"c{i:03d}", number(i), "UTC", "default", f"Contact {i}", i, {}, {})
                for i in range(CONTACTS)
            ],
        )
        logs, envs = [], []
        temporal = await start_dev_server(tmp_path / "temporal", ui=False, persistent=False)
        client = await temporal.client()
        for m in range(2):
            scenarios, log = tmp_path / f"scenarios{m}.json", tmp_path / f"originates{m}.jsonl"
            write_scenarios(scenarios, max_concurrent=LINES)
            sim, ami_port = await start_sim(scenarios, log, tmp_path / f"sim{m}.out")
            sims.append(sim)
            logs.append(log)
            env = worker_env(temporal.address, pg_url, ami_port)
            env["VOXFLOW_MAX_CALLS"] = str(LINES)
            env["VOXFLOW_STATE_DIR"] = str(tmp_path / f"state{m}")
            envs.append(env)
            workers[m] = await start_worker(env, tmp_path / f"worker{m}.out")
        handle = await start_campaign(
            client, plan(flow_hash), task_queue=SHARED_TASK_QUEUE, page_size=50, max_live=400
        )

        def dialled(m: int) -> int:
            return sum(originates_per_attempt(logs[m]).values())

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 300  # a loaded CI machine is slow; progress is what counts
        # Both machines dial before the kill: Temporal spreads the campaign over both.
        while dialled(0) + dialled(1) < CONTACTS // 3 or min(dialled(0), dialled(1)) == 0:
            assert all(w is not None and w.returncode is None for w in workers), "a worker died"
            assert loop.time() < deadline, f"no progress, see {tmp_path}"
            await asyncio.sleep(0.2)
        killed = workers[0]
        assert killed is not None
        killed.send_signal(signal.SIGKILL)
        await killed.wait()
        before = dialled(0)

        result = await asyncio.wait_for(
            handle.result(), timeout=timedelta(minutes=5).total_seconds()
        )

        # The dead machine's PBX dialled nothing more; the survivor finished the campaign.
        assert dialled(0) == before
        assert dialled(1) > 0
        # No attempt was originated twice, on either PBX or across them, and each was
        # recorded before it was dialled.
        per_attempt = originates_per_attempt(logs[0]) + originates_per_attempt(logs[1])
        assert per_attempt and max(per_attempt.values()) == 1
        for attempt_id in per_attempt:
            assert await attempts.get_attempt(pool, attempt_id) is not None
        # Each PBX's line limit held: no originate was refused for want of a line.
        for log in logs:
            results = Counter(str(r.get("result")) for r in read_log(log) if r["type"] == "result")
            assert results["congestion"] == 0, results
        # No contact lost: every one is final in PostgreSQL and in the campaign's result, with
        # the outcome its callee scripted, whatever the kill did in between.
        assert result.finished == CONTACTS and result.stopped == 0
        assert await contacts.count_contacts(pool, "fault") == {"final": CONTACTS}
        expected = Counter(EXPECTED[SCRIPT[i % len(SCRIPT)]] for i in range(CONTACTS))
        assert Counter(result.outcomes) == expected
    finally:
        for process in (*workers, *sims):
            if process is not None:
                await stop_process(process)
        if temporal is not None:
            await temporal.stop()
        await pool.close()
