"""One test call's spans, collected in memory: the contact workflow, its dial and converse
activities, and under them the originate, AMD, AudioSocket connect and provider turns, all
in one trace and all carrying the call's attempt id."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime.db.flows import save_flow
from runtime.dev.demo import anytime_flow
from runtime.observability import tracing

from .conftest import Stack

OLIVIA = "+12127260181"  # answers and confirms (flows/demo/scenarios.yaml)
CONTACT = {"first_name": "Olivia", "appointment_at": "2026-11-29T15:00:00-05:00"}


async def place_call(api: httpx.AsyncClient, pool: asyncpg.Pool) -> dict[str, Any]:
    """Place one test call through the API and wait for its workflow; its status."""
    flow_hash = await save_flow(pool, anytime_flow())
    placed = await api.post(
        "/calls", json={"flow_hash": flow_hash, "phone": OLIVIA, "contact": CONTACT}
    )
    assert placed.status_code == 201, placed.text
    test_id = placed.json()["id"]
    for _ in range(600):
        status = (await api.get(f"/calls/tests/{test_id}")).json()
        if status["workflow_status"] == "COMPLETED":
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"the test call never completed: {status}")


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """Names of ``span``'s ancestors, nearest first."""
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_one_call_is_one_trace_from_the_contact_workflow_to_the_provider_turns(
    stack: Stack, pg_pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    status = await place_call(stack.api, pg_pool)
    assert status["outcome"] == "confirmed"
    (call,) = status["calls"]
    attempt = call["id"]
    await asyncio.sleep(0.2)  # the last spans end as the activity returns
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}

    def named(name: str) -> list[ReadableSpan]:
        return [s for s in finished if s.name == name]

    (workflow,) = named("RunWorkflow:ContactWorkflow")
    (originate,) = named(tracing.ORIGINATE)
    (amd,) = named(tracing.AMD)
    (connect,) = named(tracing.AUDIOSOCKET_CONNECT)
    (call_span,) = named(tracing.CALL)
    turns = named(tracing.PROVIDER_TURN)
    assert len(turns) >= 2, "the greeting and the confirmation are two turns"

    # Temporal's interceptor parents the workflow's own spans (its run, the activities it
    # schedules) on the span that started it: the contact workflow's start is the root.
    root = "StartWorkflow:ContactWorkflow"
    assert ancestors(workflow, by_id)[0] == root
    assert ancestors(originate, by_id)[:3] == ["RunActivity:dial", "StartActivity:dial", root]
    assert ancestors(amd, by_id)[0] == tracing.ORIGINATE
    converse = ["RunActivity:converse", "StartActivity:converse", root]
    assert ancestors(connect, by_id)[:3] == converse
    for turn in turns:
        assert ancestors(turn, by_id)[:4] == [tracing.CALL, *converse]
        assert turn.attributes[tracing.PROVIDER] == "local"
    # ...under the API request that placed the call: one trace for the whole call.
    assert ancestors(workflow, by_id)[-1] == "POST /calls"
    ours = [s for s in finished if s.name.startswith("voxflow.")]
    assert {s.context.trace_id for s in ours} == {workflow.context.trace_id}
    assert {s.attributes[tracing.ATTEMPT_ID] for s in ours} == {attempt}
    detail = (await stack.api.get(f"/calls/{attempt}")).json()
    assert call_span.attributes[tracing.CAMPAIGN] == detail["campaign"]
    assert call_span.attributes[tracing.FLOW_HASH] == detail["flow_hash"]
    # No phone number in any attribute of any span.
    digits = OLIVIA.removeprefix("+")
    for s in finished:
        for v in (s.attributes or {}).values():
            assert digits not in str(v), (s.name, v)
