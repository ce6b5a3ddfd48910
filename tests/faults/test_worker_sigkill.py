"""Kill the worker with SIGKILL mid-campaign, three times, on the real dev server.

Ground truth is the simulated PBX's own originate log, not voxflow's records.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from dsl import load_flow
from dsl.ir import CallingWindow, Campaign, ContactsSource, Flow, OutcomeRule, Pacing
from runtime.client import start_campaign
from runtime.contacts.importer import Contact
from runtime.db import attempts, contacts, create_pool
from runtime.db.campaigns import create_campaign
from runtime.db.flows import save_flow
from runtime.dev.temporal import start_dev_server, stop_process
from runtime.workflows.messages import SHARED_TASK_QUEUE, CampaignPlan
from telephony.sim import originates_per_attempt, read_log
from tests.faults.processes import ROOT, start_sim, start_worker, worker_env

CONTACTS = 200
KILLS = 3
SCRIPT = ("busy", "no_answer", "rejected", "machine")
EXPECTED = {"busy": "busy", "no_answer": "no_answer", "rejected": "rejected", "machine": "machine"}

ALWAYS = (CallingWindow(days=(1, 2, 3, 4, 5, 6, 7), start="00:00", end="00:00"),)


def plan(flow_hash: str) -> CampaignPlan:
    campaign = Campaign(
        name="fault",
        contacts=ContactsSource(kind="csv", location="none.csv"),
        windows=ALWAYS,
        rules=(
            OutcomeRule("busy", "retry", delay_ms=1_000, max_attempts=2),
            OutcomeRule("unknown", "retry", delay_ms=2_000, max_attempts=6),
            OutcomeRule("no_answer", "final"),
            OutcomeRule("rejected", "final"),
            OutcomeRule("machine", "final"),
        ),
        pacing=Pacing(max_concurrent=20),
        max_attempts=10,
        ring_timeout_ms=1_500,
    )
    return CampaignPlan("fault", flow_hash, campaign)


def fault_flow(campaign: Campaign) -> Flow:
    """The reminder agent with this test's campaign section."""
    return dataclasses.replace(load_flow(ROOT / "flows" / "reminder.flow"), campaign=campaign)


def number(i: int) -> str:
    return f"+1555010{i:04d}"


def write_scenarios(path: Path, *, max_concurrent: int = 200) -> None:
    numbers = {}
    for i in range(CONTACTS):
        kind = SCRIPT[i % len(SCRIPT)]
        numbers[number(i)] = {"amd": "machine"} if kind == "machine" else {"result": kind}
    path.write_text(
        json.dumps({"ring_ms": 100, "max_concurrent": max_concurrent, "numbers": numbers})
    )


@pytest.mark.slow
async def test_sigkilled_worker_never_dials_an_attempt_twice_and_loses_no_contact(
    pg_url: str, tmp_path: Path
) -> None:
    pool = await create_pool(pg_url)
    sim = temporal = worker = None
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
        scenarios, log = tmp_path / "scenarios.json", tmp_path / "originates.jsonl"
        write_scenarios(scenarios)
        sim, ami_port = await start_sim(scenarios, log, tmp_path / "sim.out")
        temporal = await start_dev_server(tmp_path / "temporal", ui=False, persistent=False)
        client = await temporal.client()
        env = worker_env(temporal.address, pg_url, ami_port)
        worker = await start_worker(env, tmp_path / "worker.out")
        handle = await start_campaign(
            client, plan(flow_hash), task_queue=SHARED_TASK_QUEUE, page_size=50, max_live=400
        )

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 300  # a loaded CI machine is slow; progress is what counts
        for kill in range(1, KILLS + 1):
            target = kill * CONTACTS // (KILLS + 1)
            while sum(originates_per_attempt(log).values()) < target:
                assert worker.returncode is None, f"worker died, see {tmp_path / 'worker.out'}"
                assert loop.time() < deadline, f"no progress, see {tmp_path / 'worker.out'}"
                await asyncio.sleep(0.2)
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
            worker = await start_worker(env, tmp_path / "worker.out")

        result = await asyncio.wait_for(
            handle.result(), timeout=timedelta(minutes=5).total_seconds()
        )

        # No attempt was originated twice (the PBX's own log), and each was recorded first.
        per_attempt = originates_per_attempt(log)
        assert per_attempt and max(per_attempt.values()) == 1
        for attempt_id in per_attempt:
            assert await attempts.get_attempt(pool, attempt_id) is not None
        # No contact lost: every one is final in PostgreSQL and in the campaign's result.
        assert result.finished == CONTACTS and result.stopped == 0
        assert await contacts.count_contacts(pool, "fault") == {"final": CONTACTS}
        # Final outcomes are what the simulated callees do, whatever the kills did in between.
        expected = Counter(EXPECTED[SCRIPT[i % len(SCRIPT)]] for i in range(CONTACTS))
        assert Counter(result.outcomes) == expected
        finals = {
            (await contacts.get_contact(pool, "fault", f"c{i:03d}")).outcome: 1 for i in range(4)
        }
        assert set(finals) == set(EXPECTED.values())
        # The kills really interrupted calls: some attempts ended unknown and were retried.
        dialled_numbers = Counter(r["number"] for r in read_log(log) if r["type"] == "originate")
        assert sum(dialled_numbers.values()) > CONTACTS * 1.25  # busy contacts are dialled twice
    finally:
        for process in (worker, sim):
            if process is not None:
                await stop_process(process)
        if temporal is not None:
            await temporal.stop()
        await pool.close()
