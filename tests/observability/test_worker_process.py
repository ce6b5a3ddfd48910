"""``python -m runtime.worker`` with metrics on and JSON logs: its own metrics port, the
Temporal SDK's, and its log lines, while it dials a small campaign on the real dev server
against the simulated PBX (as ``tests/faults`` runs it)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from dsl import load_flow
from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule, Pacing
from runtime.client import start_campaign
from runtime.contacts.importer import Contact
from runtime.db import contacts, create_pool
from runtime.db.campaigns import create_campaign
from runtime.db.flows import save_flow
from runtime.dev.temporal import free_port, start_dev_server, stop_process
from runtime.workflows.messages import SHARED_TASK_QUEUE, CampaignPlan
from tests.faults.processes import ROOT, start_sim, start_worker, worker_env

NUMBERS = ("+15550300001", "+15550300002", "+15550300003")


def _campaign() -> Campaign:
    return Campaign(
        name="metered",
        contacts=ContactsSource(kind="csv", location="none.csv"),
        windows=(CallingWindow(days=(1, 2, 3, 4, 5, 6, 7), start="00:00", end="00:00"),),
        rules=(OutcomeRule("busy", "final"), OutcomeRule("no_answer", "final")),
        pacing=Pacing(max_concurrent=3),
        ring_timeout_ms=1_500,
    )


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_worker_process_serves_its_metrics_and_the_sdks_and_logs_json(
    pg_url: str, tmp_path: Path
) -> None:
    pool = await create_pool(pg_url)
    sim = temporal = worker = None
    try:
        flow = dataclasses.replace(
            load_flow(ROOT / "flows" / "reminder.flow"), campaign=_campaign()
        )
        flow_hash = await save_flow(pool, flow)
        await create_campaign(pool, "metered", flow_hash)
        await contacts.store_contacts(
            pool,
            "metered",
            [Contact(f"m{i}", n, "UTC", "default", "", i, {}, {}) for i, n in enumerate(NUMBERS)],
        )
        scenarios = tmp_path / "scenarios.json"
        results = {NUMBERS[0]: "busy", NUMBERS[1]: "busy", NUMBERS[2]: "no_answer"}
        numbers = {n: {"result": r} for n, r in results.items()}
        scenarios.write_text(json.dumps({"ring_ms": 50, "numbers": numbers}))
        sim, ami_port = await start_sim(scenarios, tmp_path / "pbx.jsonl", tmp_path / "sim.out")
        temporal = await start_dev_server(tmp_path / "temporal", ui=False, persistent=False)
        ours, sdk = free_port(), free_port()
        env = {
            **worker_env(temporal.address, pg_url, ami_port),
            "VOXFLOW_METRICS": "on",
            "VOXFLOW_METRICS_PORT": str(ours),
            "VOXFLOW_TEMPORAL_METRICS_PORT": str(sdk),
            "VOXFLOW_LOG_FORMAT": "json",
        }
        out = tmp_path / "worker.out"
        worker = await start_worker(env, out)
        client = await temporal.client()
        handle = await start_campaign(
            client,
            CampaignPlan("metered", flow_hash, _campaign()),
            task_queue=SHARED_TASK_QUEUE,
        )
        result = await handle.result()
        assert result.finished == len(NUMBERS)
        async with httpx.AsyncClient() as http:
            mine = _samples((await http.get(f"http://127.0.0.1:{ours}/metrics")).text)
            theirs = (await http.get(f"http://127.0.0.1:{sdk}/metrics")).text
        await stop_process(worker)
        worker = None
    finally:
        for process in (worker, sim):
            if process is not None:
                await stop_process(process)
        if temporal is not None:
            await temporal.stop()
        await pool.close()

    assert mine[("voxflow_dial_attempts_total", ())] == 3
    assert mine[("voxflow_originates_total", (("outcome", "busy"),))] == 2
    assert mine[("voxflow_originates_total", (("outcome", "no_answer"),))] == 1
    names = {f.name for f in text_string_to_metric_families(theirs)}
    assert any(n.startswith("temporal_activity") for n in names), sorted(names)[:20]
    # The worker's log is JSON lines; its originate lines name the call, campaign and flow.
    lines = [json.loads(x) for x in out.read_text().splitlines() if x.startswith("{")]
    originates = [x for x in lines if x["logger"] == "activities.dial"]
    assert len(originates) == 3
    assert {(x["campaign"], x["flow_hash"], x["tenant"]) for x in originates} == {
        ("metered", flow_hash, "default")
    }
    assert all(x["attempt_id"] in x["message"] for x in originates)
