"""A dry-run the test server wedges: what the server was doing is said, and the run is made
again on a fresh server (``runtime.dryrun.wedge``, ``runtime.dryrun.run``)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from temporalio import workflow
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from dsl import load_flow
    from runtime.dev.demo import DEMO_FLOW, read_contacts
    from runtime.dryrun import default_mix, simulate
    from runtime.dryrun.run import RESTARTS, ServerWedged, SimulationInput, contact_refs
    from runtime.dryrun.wedge import describe_wedge, task_in_flight
    from tests.temporal_env import time_skipping_env

QUEUE = "wedge-test"
CHRISTMAS_WEEK = date(2026, 12, 21)


@workflow.defn
class Collects:
    def __init__(self) -> None:
        self.got = 0

    @workflow.signal
    def blob(self, data: str) -> None:
        self.got += 1

    @workflow.run
    async def run(self, want: int) -> int:
        await workflow.wait_condition(lambda: self.got >= want)
        return self.got


async def test_a_workflow_task_whose_history_passes_four_mib_is_still_delivered() -> None:
    async with time_skipping_env() as env:
        handle = await env.client.start_workflow(Collects.run, 46, id="collects", task_queue=QUEUE)
        for _ in range(45):
            await handle.signal(Collects.blob, "x" * 100_000)
        history = await env.client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=env.client.namespace,
                execution=(
                    await handle.describe()
                ).raw_description.workflow_execution_info.execution,
            )
        )
        assert history.history.ByteSize() > 4 * 1024 * 1024  # the gRPC default message limit

        async with Worker(env.client, task_queue=QUEUE, workflows=[Collects]):
            await handle.signal(Collects.blob, "last")
            assert await handle.result() == 46  # one task carrying the whole history


async def test_a_stall_is_described_by_what_the_server_holds() -> None:
    async with time_skipping_env() as env:
        # No worker polls this queue: each run's first workflow task stays scheduled.
        await env.client.start_workflow(Collects.run, 1, id="campaign/x", task_queue=QUEUE)
        await env.client.start_workflow(Collects.run, 1, id="campaign/x/c1", task_queue=QUEUE)

        said = await describe_wedge(env.client, "campaign/x")

    assert re.fullmatch(
        "2 workflows open; last events: 2 workflow_task_scheduled;"
        " workflow tasks not completed: campaign/x/c1 [(]workflow_task_scheduled after 2 events[)];"
        " campaign run [0-9a-f]{8}: 2 events, last workflow_execution_started,"
        " workflow_task_scheduled",
        said,
    ), said


async def test_a_workflow_task_in_flight_is_seen_until_it_completes() -> None:
    async with time_skipping_env() as env:
        handle = await env.client.start_workflow(Collects.run, 0, id="c", task_queue=QUEUE)

        assert await task_in_flight(env.client, "c")  # scheduled, no worker yet
        async with Worker(env.client, task_queue=QUEUE, workflows=[Collects]):
            await handle.result()
        assert not await task_in_flight(env.client, "c")
        assert not await task_in_flight(env.client, "no-such-workflow")


def _demo() -> SimulationInput:
    flow = load_flow(DEMO_FLOW)
    people = contact_refs(read_contacts(flow, DEMO_FLOW).contacts)
    return SimulationInput(flow, people, 7, default_mix(flow), CHRISTMAS_WEEK)


async def test_a_wedged_dry_run_is_made_again_on_a_fresh_server_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runtime.dryrun import run

    real = run._run_once
    servers = []

    async def wedges_first(arg, ledger):
        servers.append(ledger)
        if len(servers) == 1:
            ledger.dials.append(object())  # a partial run: its figures must not leak through
            raise ServerWedged("stopped after 1 dials (time-skipping test server wedged: ...)")
        return await real(arg, ledger)

    monkeypatch.setattr(run, "_run_once", wedges_first)
    arg = _demo()

    report = await simulate(arg)

    assert len(servers) == 2 and servers[0] is not servers[1]  # a fresh ledger, a fresh server
    assert report.wedges == ("stopped after 1 dials (time-skipping test server wedged: ...)",)
    assert report.dials_total == len(servers[1].dials)
    assert report.outside_window == 0 and report.on_holiday == 0
    assert sum(report.outcomes.values()) == len(arg.contacts)


async def test_a_dry_run_that_wedges_every_time_ends_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runtime.dryrun import run

    attempts = []

    async def always_wedges(arg, ledger):
        attempts.append(ledger)
        raise ServerWedged("stopped after 0 dials (time-skipping test server wedged: ...)")

    monkeypatch.setattr(run, "_run_once", always_wedges)

    with pytest.raises(ServerWedged, match="wedged on 3 fresh servers in a row") as err:
        await simulate(_demo())

    assert len(attempts) == RESTARTS + 1
    assert "simulate fewer contacts" in str(err.value)
