"""Inbound calls end to end over loopback: the simulated PBX calls in with a fresh AudioSocket
UUID, the worker starts ``InboundCallWorkflow`` on the Temporal dev server, the local voice
provider converses on the worker holding the media, and the call lands in PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.worker import Replayer

from activities.converse import ConverseActivities
from runtime import tenancy
from runtime.call.inbound import (
    CallMedia,
    InboundCalls,
    compile_inbound_flows,
    inbound_workflow_id,
)
from runtime.db import attempts, calls, tenants, webhooks
from runtime.dev.temporal import DevServer, start_dev_server, stop_process
from runtime.settings import load_settings
from runtime.worker import build_workers, run_workers
from runtime.workflows import search
from runtime.workflows.inbound import InboundCallWorkflow
from runtime.workflows.messages import InboundInput, InboundResult
from runtime.workflows.sandbox import workflow_runner
from telephony.ami import AmiSettings, AsteriskGateway
from telephony.audiosocket import AudioSocketServer
from telephony.sim import SimPBX, parse_scenarios
from telephony.sim.pbx import SimCall
from telephony.sim.scenarios import Callee, Step
from tests.faults.processes import start_worker, worker_env

ROOT = Path(__file__).resolve().parents[2]
MENU = ROOT / "flows" / "dtmf_menu.flow"
SUPPORT = ROOT / "flows" / "support.flow.yaml"
CALLER = "+33155550100"
BILLING = Callee(script=(Step("say", text="I have a question about my bill"), Step("listen")))
HANG_UP_AT_ONCE = Callee(script=(Step("wait", ms=200), Step("hangup")))


@pytest.fixture
async def temporal(tmp_path: Path) -> AsyncIterator[DevServer]:
    server = await start_dev_server(tmp_path / "temporal", ui=False, persistent=False)
    try:
        yield server
    finally:
        await server.stop()


async def workflow_result(
    client: Client, call_id: str, tenant: str = tenancy.DEFAULT_TENANT
) -> InboundResult:
    """The inbound workflow's result, waiting for it to be started first."""
    handle = client.get_workflow_handle_for(
        InboundCallWorkflow.run, inbound_workflow_id(call_id, tenant)
    )
    async with asyncio.timeout(60):
        while True:
            try:
                return await handle.result()
            except RPCError:  # not started yet
                await asyncio.sleep(0.1)


async def assert_landed_in_postgres(pool, call: SimCall, flow_hash: str) -> None:
    attempt = await attempts.get_attempt(pool, call.attempt_id)
    assert attempt is not None
    assert (attempt.campaign, attempt.contact, attempt.phone) == ("inbound", CALLER, CALLER)
    assert (attempt.status, attempt.outcome, attempt.action) == (
        "finished",
        "routed_to_billing",
        "final",
    )
    assert attempt.answered_at is not None and attempt.flow_hash == flow_hash
    detail = await calls.get_call(pool, call.attempt_id)
    assert detail is not None
    row = detail.call
    assert (row.direction, row.campaign, row.phone, row.flow_hash) == (
        "inbound",
        "inbound",
        CALLER,
        flow_hash,
    )
    assert (row.outcome, row.node_path) == ("routed_to_billing", ["menu", "billing"])
    said = [(t.role, t.node, t.text) for t in detail.transcript if t.role in ("caller", "agent")]
    assert ("caller", "menu", "I have a question about my bill") in said
    assert ("agent", "billing", "Transferring you to billing.") in said
    assert await attempts.outcome_counts(pool, "inbound") == {"routed_to_billing": 1}


async def test_a_worker_process_answers_an_inbound_call_and_records_it(
    temporal: DevServer, pg_url: str, pg_pool, tmp_path: Path
) -> None:
    async with SimPBX(parse_scenarios({}), log_path=tmp_path / "sim.jsonl") as pbx:
        env = worker_env(temporal.address, pg_url, pbx.ami_address[1])
        out = tmp_path / "worker.log"
        worker = await start_worker({**env, "VOXFLOW_INBOUND_FLOW": str(MENU)}, out)
        try:
            audiosocket = await worker_audiosocket(out, worker)
            call = pbx.place_inbound(audiosocket, caller=CALLER, did="+15550100", script=BILLING)
            result = await workflow_result(await temporal.client(), call.attempt_id)
            await asyncio.wait_for(call.ended.wait(), 10)
        finally:
            await stop_process(worker)
    assert result.outcome == "routed_to_billing"
    # the flow's `transfer` reached the inbound channel through AMI Redirect
    assert call.transferred_to == "sip:billing@pbx.harbor-dental.example@voxflow-transfer"
    flow_hash = compile_inbound_flows(load_settings({"VOXFLOW_INBOUND_FLOW": str(MENU)}))
    await assert_landed_in_postgres(pg_pool, call, flow_hash.default.hash)
    client = await temporal.client()
    described = await client.get_workflow_handle(inbound_workflow_id(call.attempt_id)).describe()
    attrs = described.typed_search_attributes
    assert attrs.get(search.CAMPAIGN) == "inbound"
    assert attrs.get(search.FLOW_HASH) == flow_hash.default.hash
    assert attrs.get(search.OUTCOME) == "routed_to_billing"
    assert await described.memo() == {"caller": CALLER, "did": "15550100"}
    # the real history (activities, search attributes, memo) replays on today's workflow code
    history = await client.get_workflow_handle(inbound_workflow_id(call.attempt_id)).fetch_history()
    replayer = Replayer(
        workflows=[InboundCallWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def worker_audiosocket(out: Path, worker: asyncio.subprocess.Process) -> str:
    """The ``host:port`` a worker process prints once it serves."""
    async with asyncio.timeout(60):
        while True:
            text = await asyncio.to_thread(_read, out)
            if match := re.search(r"voxflow worker: queue \S+, audiosocket (\S+)", text):
                return match.group(1)
            if worker.returncode is not None:
                raise AssertionError(f"worker exited:\n{text}")
            await asyncio.sleep(0.1)


# --- in-process worker: the same parts serve() wires, driven directly ------------------------


@dataclass
class Worker:
    pbx: SimPBX
    audiosocket: AudioSocketServer
    media: CallMedia
    inbound: InboundCalls
    client: Client


@asynccontextmanager
async def inbound_worker(
    pool, tmp_path: Path, env: dict[str, str], client: Client | None = None
) -> AsyncIterator[Worker]:
    async with (
        SimPBX(parse_scenarios({}), log_path=tmp_path / "sim.jsonl", trace_media=True) as pbx,
        AudioSocketServer() as audiosocket,
    ):
        host, port = pbx.ami_address
        settings = AmiSettings(host=host, port=port, secret="voxflow")
        gateway = await AsteriskGateway.connect(settings, audiosocket.address_text)
        try:
            media = CallMedia(audiosocket, gateway)
            flows = compile_inbound_flows(load_settings(env))
            await flows.save(pool)
            if client is None:  # no Temporal: only calls that never reach a workflow
                inbound = InboundCalls(None, media, pool, flows, task_queue="unused")  # type: ignore[arg-type]
                async with inbound.running():
                    yield Worker(pbx, audiosocket, media, inbound, None)  # type: ignore[arg-type]
                return
            converse = ConverseActivities(media=media, pool=pool, gateway=media.gateway,
                                          settings=load_settings({"VOXFLOW_RECORDINGS_DIR": str(tmp_path / "rec")}),
                                          media_wait_s=5)  # fmt: skip
            workers = build_workers(client, pool=pool, gateway=media.gateway,
                                    audiosocket=audiosocket.address_text,
                                    call_activities=[converse.converse])  # fmt: skip
            inbound = InboundCalls(client, media, pool, flows, task_queue=workers[1].task_queue)
            stop = asyncio.Event()
            running = asyncio.create_task(run_workers(workers, stop))
            try:
                async with inbound.running():
                    yield Worker(pbx, audiosocket, media, inbound, client)
            finally:
                stop.set()
                await running
        finally:
            await gateway.close()


async def test_with_no_inbound_flow_the_call_is_hung_up_cleanly(
    pg_pool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="runtime.call.inbound")
    async with inbound_worker(pg_pool, tmp_path, {}) as w:
        call = w.pbx.place_inbound(
            w.audiosocket.address_text, caller=CALLER, did="+15550100", script=BILLING
        )
        await asyncio.wait_for(call.ended.wait(), 10)
        assert w.inbound.refused == {call.attempt_id: "no_flow"}
        assert w.media.held() == [] and w.audiosocket.active() == {}
    said = [r.getMessage() for r in caplog.records if r.name == "runtime.call.inbound"]
    assert any(call.attempt_id in m and "no inbound flow configured" in m for m in said)
    assert call.media.ended_by == "agent"  # the AudioSocket hang-up reached the caller
    assert call.cause == 16
    assert await attempts.get_attempt(pg_pool, call.attempt_id) is None


async def test_a_number_no_route_names_is_hung_up_without_a_default_flow(
    pg_pool, tmp_path: Path
) -> None:
    env = {"VOXFLOW_INBOUND_ROUTES": f"+15550111={MENU}"}
    async with inbound_worker(pg_pool, tmp_path, env) as w:
        call = w.pbx.place_inbound(w.audiosocket.address_text, caller=CALLER, did="+15550199")
        await asyncio.wait_for(call.ended.wait(), 10)
        assert w.inbound.refused == {call.attempt_id: "no_route"}
    assert call.media.ended_by == "agent"


async def test_a_failed_workflow_start_ends_only_that_call(
    temporal: DevServer, pg_pool, tmp_path: Path
) -> None:
    client = await temporal.client()
    env = {"VOXFLOW_INBOUND_FLOW": str(MENU), "VOXFLOW_INBOUND_ROUTES": f"+15550177={SUPPORT}"}
    taken = "5b0c5e7e-1111-4c1d-9a55-00000000000a"
    # A running workflow already owns the first call's id: starting it again must fail.
    blocker = await client.start_workflow(
        InboundCallWorkflow.run,
        InboundInput(taken, CALLER, "sha256:none", "nobody-polls-this"),
        id=inbound_workflow_id(taken),
        task_queue="nobody-polls-this",
    )
    try:
        async with inbound_worker(pg_pool, tmp_path, env, client) as w:
            target = w.audiosocket.address_text
            failed = w.pbx.place_inbound(target, caller=CALLER, did="+15550100", call_id=taken,
                                         script=BILLING)  # fmt: skip
            routed = w.pbx.place_inbound(target, caller="+15550123", did="+15550177",
                                         script=HANG_UP_AT_ONCE)  # fmt: skip
            answered = w.pbx.place_inbound(target, caller=CALLER, did="+15550100", script=BILLING)
            result = await workflow_result(client, answered.attempt_id)
            routed_result = await workflow_result(client, routed.attempt_id)
            await asyncio.wait_for(failed.ended.wait(), 10)
            assert w.inbound.refused == {taken: "start_failed"}
    finally:
        await blocker.terminate()
    assert failed.media.ended_by == "agent" and failed.media.heard == []
    settled = await attempts.get_attempt(pg_pool, taken)
    assert settled is not None and (settled.status, settled.outcome) == ("finished", "failed")
    assert "workflow not started" in settled.detail
    # the other calls went on: one conversed to its outcome, one ran its number's flow
    assert result.outcome == "routed_to_billing"
    support = compile_inbound_flows(load_settings(env)).by_number["15550177"]
    described = await client.get_workflow_handle(inbound_workflow_id(routed.attempt_id)).describe()
    assert described.typed_search_attributes.get(search.FLOW_HASH) == support.hash
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert routed_result.outcome == "hung_up"


async def test_an_outbound_call_whose_media_comes_first_is_not_taken_for_inbound(
    pg_pool, tmp_path: Path
) -> None:
    from telephony.gateway import DialRequest

    attempt = "5b0c5e7e-1111-4c1d-9a55-00000000000b"
    async with inbound_worker(pg_pool, tmp_path, {}) as w:
        dialled = await w.media.gateway.place_call(
            DialRequest(attempt, "+15550100", detect_machine=False)
        )
        assert dialled.answered
        await asyncio.sleep(0.3)  # the callee's AudioSocket connects before anyone accepts it
        session = await w.media.accept(attempt, timeout=5)
        assert session.call_id == attempt and w.inbound.refused == {}
        await session.hangup()


async def test_a_withheld_caller_id_answers_as_unknown(
    temporal: DevServer, pg_pool, tmp_path: Path
) -> None:
    client = await temporal.client()
    async with inbound_worker(pg_pool, tmp_path, {"VOXFLOW_INBOUND_FLOW": str(MENU)}, client) as w:
        call = w.pbx.place_inbound(w.audiosocket.address_text, caller=CALLER, did="+15550100",
                                   caller_id=False, script=HANG_UP_AT_ONCE)  # fmt: skip
        result = await workflow_result(client, call.attempt_id)
    assert result.outcome == "hung_up"
    attempt = await attempts.get_attempt(pg_pool, call.attempt_id)
    assert attempt is not None and (attempt.contact, attempt.phone) == ("unknown", "unknown")
    detail = await calls.get_call(pg_pool, call.attempt_id)
    assert detail is not None and detail.call.phone is None
    described = await client.get_workflow_handle(inbound_workflow_id(call.attempt_id)).describe()
    assert await described.memo() == {"caller": "unknown", "did": "15550100"}


async def test_an_unanswered_outbound_call_leaves_no_media_expected(
    pg_pool, tmp_path: Path
) -> None:
    from telephony.gateway import DialRequest

    attempt = "5b0c5e7e-1111-4c1d-9a55-00000000000c"
    async with inbound_worker(pg_pool, tmp_path, {}) as w:
        w.pbx.scenarios = parse_scenarios({"numbers": {"+15550100": {"result": "busy"}}})
        dialled = await w.media.gateway.place_call(
            DialRequest(attempt, "+15550100", detect_machine=False)
        )
        assert not dialled.answered and w.audiosocket.expected == 0


async def test_a_number_a_tenant_owns_runs_and_is_stored_as_that_tenants_call(
    temporal: DevServer, pg_pool, tmp_path: Path
) -> None:
    client = await temporal.client()
    with tenancy.acting_as(tenancy.PLATFORM):
        await tenants.create_tenant(pg_pool, "acme-in", name="Acme")
    for owner in ("acme-in", tenancy.DEFAULT_TENANT):  # both want call.completed
        with tenancy.acting_as(owner):
            await webhooks.create_webhook(pg_pool, "http://127.0.0.1:9/in", events=[])
    env = {
        "VOXFLOW_INBOUND_FLOW": str(MENU),
        "VOXFLOW_INBOUND_ROUTES": f"+15550177@acme-in={SUPPORT}",
    }
    async with inbound_worker(pg_pool, tmp_path, env, client) as w:
        target = w.audiosocket.address_text
        owned = w.pbx.place_inbound(target, caller="+15550123", did="+15550177",
                                    script=HANG_UP_AT_ONCE)  # fmt: skip
        unknown = w.pbx.place_inbound(target, caller=CALLER, did="+15550199",
                                      script=HANG_UP_AT_ONCE)  # fmt: skip
        owned_result = await workflow_result(client, owned.attempt_id, "acme-in")
        unknown_result = await workflow_result(client, unknown.attempt_id)
    assert (owned_result.outcome, unknown_result.outcome) == ("hung_up", "hung_up")
    support = compile_inbound_flows(load_settings(env)).by_number["15550177"]
    for call_id, tenant, flow_hash in (
        (owned.attempt_id, "acme-in", support.hash),
        (unknown.attempt_id, tenancy.DEFAULT_TENANT, None),
    ):
        wid = inbound_workflow_id(call_id, tenant)
        assert wid == (
            f"tenant/acme-in/inbound/{call_id}" if tenant != "default" else f"inbound/{call_id}"
        )
        described = await client.get_workflow_handle(wid).describe()
        assert described.typed_search_attributes.get(search.TENANT) == tenant
        assert described.status == WorkflowExecutionStatus.COMPLETED
        if flow_hash is not None:
            assert described.typed_search_attributes.get(search.FLOW_HASH) == flow_hash
        # The attempt and the call, with their outcome, are the owner's and no one else's.
        for reader in ("acme-in", tenancy.DEFAULT_TENANT):
            with tenancy.acting_as(reader):
                attempt = await attempts.get_attempt(pg_pool, call_id)
                detail = await calls.get_call(pg_pool, call_id)
                events = await pg_pool.fetch(
                    "SELECT type, tenant FROM webhook_events WHERE subject = $1", call_id
                )
            if reader == tenant:
                assert attempt is not None and attempt.outcome == "hung_up"
                assert detail is not None and detail.call.direction == "inbound"
                assert detail.call.outcome == "hung_up"
                assert [tuple(e) for e in events] == [("call.completed", tenant)]
            else:
                assert attempt is None and detail is None and events == []
