"""The ``converse`` activity: a simulated call run end to end with the local voice provider,
the real embedded PostgreSQL (flow store, breaker, persistence) and Temporal's
``ActivityEnvironment`` (heartbeats, cancellation)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.converse import ConverseActivities
from dsl import load_flow
from runtime.call.result import TimedVisit
from runtime.db import calls, create_pool, knowledge
from runtime.db.flows import save_flow
from runtime.settings import load_settings
from runtime.workflows.messages import ConverseInput
from telephony.ami import AmiSettings, AsteriskGateway
from telephony.audiosocket import AudioSocketServer
from telephony.gateway import DialRequest
from telephony.sim import SimPBX, parse_scenarios
from tests.call.conftest import CONTACT, ROOT, reminder

FLOWS = ROOT / "flows"


@pytest.fixture
async def pool(pg_url: str) -> AsyncIterator[object]:
    pool = await create_pool(pg_url, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


async def run_converse(
    pool,
    tmp_path,
    script,
    *,
    cancel_after: float | None = None,
    environ: dict[str, str] | None = None,
    flow=None,
):
    """Run ``converse`` on one simulated call; recordings go under ``tmp_path/recordings``."""
    settings = load_settings(
        {"VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings"), **(environ or {})}
    )
    flow_hash = await save_flow(pool, flow or reminder())
    scenarios = parse_scenarios({"ring_ms": 20, "default": {"script": script}})
    async with (
        SimPBX(scenarios, log_path=tmp_path / "sim.jsonl", trace_media=True) as pbx,
        AudioSocketServer() as server,
    ):
        host, port = pbx.ami_address
        gateway = await AsteriskGateway.connect(
            AmiSettings(host=host, port=port, secret="voxflow"), server.address_text
        )
        try:
            acts = ConverseActivities(media=server, pool=pool, gateway=gateway,
                                      settings=settings, media_wait_s=5)  # fmt: skip
            env = ActivityEnvironment()
            beats: list[object] = []
            env.on_heartbeat = lambda *details: beats.append(details)
            attempt = str(uuid.uuid4())
            server.expect(attempt)
            assert (
                await gateway.place_call(DialRequest(attempt, "+15551234567", detect_machine=False))
            ).answered
            task = asyncio.create_task(env.run(acts.converse, ConverseInput(attempt, flow_hash, "nov",
                                                                            CONTACT)))  # fmt: skip
            if cancel_after is not None:
                await asyncio.sleep(cancel_after)
                env.cancel()
            try:
                result = await task
            except asyncio.CancelledError:
                result = None
            finally:
                await pbx.calls[attempt].ended.wait() if hasattr(
                    pbx.calls[attempt], "ended"
                ) else None
            return result, pbx.calls[attempt].media, beats, attempt
        finally:
            await gateway.close()


async def test_converse_runs_the_call_with_the_local_voice_provider(pool, tmp_path) -> None:
    script = [{"listen": True}, {"say": "I can't make it"}, {"wait_ms": 20000}, {"hangup": True}]
    result, callee, beats, attempt = await run_converse(pool, tmp_path, script)
    assert result.outcome == "rescheduled" and result.error is None
    assert result.node_path == ["greet", "reschedule"]
    # each stay in a node, timed by the bridge, stored for the heat map with who ended the call
    stored = (await calls.get_call(pool, attempt)).call
    greet, reschedule = (TimedVisit.from_json(v) for v in stored.visits)
    assert (greet.node, greet.via, reschedule.node) == ("greet", "start", "reschedule")
    assert reschedule.via == "intent:reschedule" and stored.ended_by == "agent"
    assert 0 <= greet.entered_ms < reschedule.entered_ms
    assert greet.ms == reschedule.entered_ms - greet.entered_ms > 1000  # the greeting was said
    assert reschedule.entered_ms + reschedule.ms == result.duration_ms
    assert result.callback_at is not None and not result.opted_out
    assert result.turns >= 1 and result.duration_ms > 0
    assert set(result.usage) == {"local"}
    assert ("greet",) in beats
    assert (
        "No problem. Someone from the clinic will call you back to find a new time." in callee.heard
    )
    assert callee.ended_by == "agent"


async def test_a_live_call_answers_from_the_knowledge_base_in_postgresql(pool, tmp_path) -> None:
    """The converse activity gives the call's tools the deployment's knowledge base."""
    settings = load_settings({})
    await knowledge.add_document(
        pool, knowledge.embedder_for(settings), "acme_help", "Returns are free within 30 days."
    )
    script = [
        {"listen": True},
        {"say": "what is your returns policy"},
        {"wait_ms": 6000},
        {"hangup": True},
    ]
    result, callee, _, attempt = await run_converse(
        pool, tmp_path, script, flow=load_flow(FLOWS / "support.flow.yaml")
    )
    detail = await calls.get_call(pool, attempt)
    assert [(t.name, t.error) for t in detail.tool_calls] == [("knowledge_search", None)]
    assert "Returns are free within 30 days." in callee.heard


async def test_cancelling_converse_hangs_up_the_call(pool, tmp_path) -> None:
    script = [{"listen": True}, {"wait_ms": 20000}, {"hangup": True}]
    result, callee, _, attempt = await run_converse(pool, tmp_path, script, cancel_after=1.5)
    assert result is None  # the cancellation was re-raised
    assert callee.ended_by == "agent"  # the AudioSocket hang-up reached the callee
    # What the call said and how far it got are stored all the same, with its recording.
    detail = await calls.get_call(pool, attempt)
    assert detail is not None and detail.call.ended_at is not None
    assert detail.call.node_path == ["greet"] and detail.call.recording == f"{attempt}.wav"
    # the line went down under the bridge as in a caller's hang-up: not a drop-off
    assert detail.call.ended_by == "cancelled" and detail.call.visits[0]["node"] == "greet"
    assert detail.transcript[0].text == "entered greet"


async def test_unknown_flow_hash_is_a_non_retryable_error(pool) -> None:
    acts = ConverseActivities(media=None, pool=pool, gateway=None, settings=load_settings({}))
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(acts.converse, ConverseInput("a", "sha256:none", "nov"))
    assert err.value.type == "FlowNotFound" and err.value.non_retryable


async def test_a_worker_loads_each_stored_flow_once_for_all_its_calls(pool, monkeypatch) -> None:
    import activities.converse as converse_module

    loads: list[str] = []
    real_load = converse_module.load_flow

    async def counted(db, flow_hash):
        loads.append(flow_hash)
        return await real_load(db, flow_hash)

    monkeypatch.setattr(converse_module, "load_flow", counted)
    monkeypatch.setattr(converse_module, "FLOWS_KEPT", 1)
    first = await save_flow(pool, reminder())
    second = await save_flow(pool, load_flow(FLOWS / "survey.flow"))
    acts = ConverseActivities(media=None, pool=pool, gateway=None, settings=load_settings({}))
    flow = await acts._flow(first)
    assert flow is not None and flow.hash == first
    assert await acts._flow(first) is flow  # one IR shared by the calls, no second fetch
    assert loads == [first]
    assert (await acts._flow(second)).hash == second  # type: ignore[union-attr]
    assert await acts._flow(first) is not flow  # only FLOWS_KEPT are kept: fetched again
    assert await acts._flow("sha256:none") is None and await acts._flow("sha256:none") is None
    assert loads == [first, second, first, "sha256:none", "sha256:none"]  # a miss is not kept


@pytest.mark.parametrize("callee", [{"amd": "hangup"}, {"script": [{"listen": True}]}])
async def test_a_call_whose_media_never_comes_ends_hung_up_with_its_channel(
    pool, tmp_path, callee
) -> None:
    """AMDSTATUS=HANGUP, or an AudioSocket() that cannot connect: ``hung_up`` within 2 s
    of the channel's Hangup, heartbeating meanwhile (not ``failed`` after the media wait)."""
    import time

    flow_hash = await save_flow(pool, reminder())
    scenarios = parse_scenarios({"ring_ms": 20, "default": callee})
    async with (
        SimPBX(scenarios, log_path=tmp_path / "sim.jsonl") as pbx,
        AudioSocketServer() as server,
    ):
        host, port = pbx.ami_address
        audiosocket = server.address_text if "amd" in callee else "127.0.0.1:9"  # nothing there
        gateway = await AsteriskGateway.connect(
            AmiSettings(host=host, port=port, secret="voxflow"), audiosocket
        )
        try:
            acts = ConverseActivities(media=server, pool=pool, gateway=gateway,
                                      settings=load_settings({}), media_wait_s=30)  # fmt: skip
            env = ActivityEnvironment()
            beats: list[object] = []
            env.on_heartbeat = lambda *details: beats.append(details)
            attempt = str(uuid.uuid4())
            server.expect(attempt)
            dial = await gateway.place_call(
                DialRequest(attempt, "+15551234567", detect_machine="amd" in callee)
            )
            assert dial.answered
            started = time.monotonic()
            result = await env.run(acts.converse, ConverseInput(attempt, flow_hash, "nov", CONTACT))
            assert time.monotonic() - started < 2.0
            assert result.outcome == "hung_up"
            assert beats
        finally:
            await gateway.close()
