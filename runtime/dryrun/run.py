"""Run a campaign's real workflows over simulated days (``voxflow campaign simulate``).

The campaign and contact workflows run sandboxed, as in production, on the time-skipping test
server; the server's clock starts at the chosen day's midnight UTC and skips to whatever the
workflows wait for. The campaign runs to its end (every contact final), so the report can say
when it would complete; the per-day figures cover the days asked for.
"""

from __future__ import annotations

import asyncio
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from temporalio.api.testservice.v1 import UnlockTimeSkippingRequest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from dsl.ir import Flow
from runtime.client import plan_for
from runtime.contacts.importer import Contact
from runtime.dryrun.activities import CALL_QUEUE, Ledger
from runtime.dryrun.callees import OutcomeMix
from runtime.dryrun.locks import LeakedLocks
from runtime.dryrun.report import SimulationReport, build_report
from runtime.dryrun.server import time_skipping_server
from runtime.dryrun.timers import dry_run_runner
from runtime.dryrun.wedge import describe_wedge, task_in_flight
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.messages import (
    SHARED_TASK_QUEUE,
    CampaignInput,
    CampaignPlan,
    ContactRef,
)
from runtime.workflows.search import campaign_workflow_id


def contact_refs(contacts: Sequence[Contact]) -> list[ContactRef]:
    """Imported contacts as the campaign workflow reads them (``campaign_contacts_page``)."""
    return [
        ContactRef(c.id, c.phone, c.timezone, c.name, {k: str(v) for k, v in c.columns.items()})
        for c in contacts
    ]


HISTORY_LIMIT = 2_500
"""The campaign continues as new past this many events (the test server also suggests it past
4,096). Not lower: each continue-as-new hands every live contact over by signal, and each
contact that then ends after its campaign run leaks a lock (``runtime.dryrun.locks``). Not for
the message size: the test server delivers a workflow task whose history is far over 4 MiB
(``tests/runtime/dryrun/test_wedge.py``)."""

CLOSED_CHECK = timedelta(days=1)
"""How often a campaign run holding contacts an earlier run handed over asks whether any closed
without reporting (5 minutes live). Nothing terminates a dry run's contacts, so the check only
costs here: each one describes every handed-over contact, with the test server's clock still."""

STALL = timedelta(seconds=60)
"""Wall time without any activity call after which a dry-run is declared wedged: the test
server (1.40) has faults that stop a campaign for good (bench/README.md, "Campaign dry-run").
What the server was doing is described (``runtime.dryrun.wedge``) and the dry-run starts again
on a fresh server, up to :data:`RESTARTS` times."""


NUDGE = timedelta(seconds=3)
"""Wall time without any activity call after which the clock is unlocked once more."""


POLL = timedelta(seconds=0.1)
"""How often the dry-run looks for progress, and for leaked locks while there is none
(``runtime.dryrun.locks``)."""


RESTARTS = 2
"""Fresh dry-runs after a wedge before giving up. A restart repeats the run from its first
day with the same draws (``runtime.dryrun.callees``: each depends on the seed, the contact and
the attempt only), so its report is that of an unwedged run; the report lists the wedges."""


class SimulationError(ValueError):
    """A dry-run that cannot start or cannot finish; the message says why and what to do."""


class ServerWedged(SimulationError):
    """The test server stopped making progress (see :data:`STALL`); the message says what it
    was doing (``runtime.dryrun.wedge``)."""


@dataclass(frozen=True)
class SimulationInput:
    flow: Flow
    contacts: Sequence[ContactRef]
    days: int
    mix: OutcomeMix
    start: date | None = None
    """The first simulated day (midnight UTC); None: today."""
    seed: int = 0
    max_live: int = 1000
    """Contact workflows alive at once, as ``start_campaign`` sets it."""


async def simulate(arg: SimulationInput) -> SimulationReport:
    """Run the campaign of ``arg.flow`` over ``arg.contacts`` to its end on a skipped clock.

    Raises:
        SimulationError: the flow has no campaign, no contacts, or a start day in the past.
        FileNotFoundError: the test server binary is not installed.
    """
    flow = arg.flow
    if flow.campaign is None:
        raise SimulationError(f"flow {flow.agent.name!r} has no campaign section to simulate")
    if not arg.contacts:
        raise SimulationError(
            "no contacts to simulate (every row was rejected or the file is empty)"
        )
    if arg.days < 1:
        raise SimulationError(f"--days must be at least 1 (got {arg.days})")
    callback_outcomes = frozenset(r.outcome for r in flow.campaign.rules if r.action == "callback")
    wedges: list[str] = []
    while True:
        ledger = Ledger(list(arg.contacts), arg.mix, arg.seed, callback_outcomes)
        try:
            plan, started = await _run_once(arg, ledger)
        except ServerWedged as wedge:
            wedges.append(str(wedge))
            if len(wedges) > RESTARTS:
                raise ServerWedged(
                    f"{wedge}. It wedged on {len(wedges)} fresh servers in a row (a known fault"
                    " of temporal-test-server 1.40, which large campaigns meet): simulate fewer"
                    " contacts at a time."
                ) from None
            continue
        report = build_report(ledger, plan, started, arg.days)
        return replace(report, wedges=tuple(wedges))


async def _run_once(arg: SimulationInput, ledger: Ledger) -> tuple[CampaignPlan, datetime]:
    """One dry-run on a fresh test server, recorded in ``ledger``; answers the plan and the
    simulated start."""
    flow = arg.flow
    assert flow.campaign is not None  # checked by simulate
    async with time_skipping_server(quiet=True) as env:
        now = await env.get_current_time()
        first_day = arg.start or now.astimezone(UTC).date()
        start = datetime.combine(first_day, time(0), UTC)
        if start < now - timedelta(days=1):
            raise SimulationError(
                f"--from {first_day} is in the past: the simulated clock starts today"
                f" ({now.date()}) or later"
            )
        if start > now:
            await env.sleep(start - now)
        started = max(start, now)  # the clock reads a few ms later: the day asked for
        plan = plan_for(flow, f"dryrun-{flow.campaign.name}", now=started)
        client = env.client
        async with (
            Worker(
                client,
                task_queue=SHARED_TASK_QUEUE,
                workflows=[CampaignWorkflow, ContactWorkflow],
                activities=ledger.activities(),
                workflow_runner=dry_run_runner(),
                max_concurrent_workflow_tasks=50,
                # No deadlock detection: on a busy machine a campaign task that starts a page
                # of contacts can take over its 2 s, and the thread it abandons then holds up
                # the worker's shutdown. Production workers keep it.
                debug_mode=True,
            ),
            Worker(client, task_queue=CALL_QUEUE, activities=ledger.call_activities()),
        ):
            handle = await client.start_workflow(
                CampaignWorkflow.run,
                CampaignInput(
                    plan,
                    page_size=100,
                    max_live=arg.max_live,
                    history_limit=HISTORY_LIMIT,
                    closed_check_every=CLOSED_CHECK,
                ),
                id=campaign_workflow_id(plan.name),
                task_queue=SHARED_TASK_QUEUE,
            )
            await _result_while_progressing(env, handle, ledger, LeakedLocks(client, handle.id))
    return plan, started


async def _result_while_progressing(
    env: WorkflowEnvironment, handle: WorkflowHandle, ledger: Ledger, leaks: LeakedLocks
) -> None:
    """The campaign's result, or :class:`SimulationError` once no activity has run for
    :data:`STALL` of wall time: the test server has wedged (see :data:`STALL`).

    After each :data:`POLL` without an activity call, the locks the test server leaked for
    contacts that outlived their campaign run are released (``runtime.dryrun.locks``; counted
    in ``ledger.leaked_locks``). As a last resort, each :data:`NUDGE` without progress time
    skipping is unlocked once more (counted in ``ledger.clock_nudges``), unless the campaign
    has a workflow task in flight: on a loaded machine its replay can take longer than the
    nudge's wait, and taking the lock its task holds unbalances the server's count, which later
    throws inside a commit. A sound run needs no nudge.
    """
    result = asyncio.ensure_future(handle.result())
    seen, since, nudged = ledger.calls, clock.monotonic(), clock.monotonic()
    service = env.client.service_client.test_service
    try:
        while True:
            done, _ = await asyncio.wait({result}, timeout=POLL.total_seconds())
            if done:
                result.result()
                return
            now = clock.monotonic()
            if ledger.calls != seen:
                seen, since, nudged = ledger.calls, now, now
                continue
            # Only while nothing moves: an unlock the server refuses is harmless then, while
            # one that took a lock held for a running task would unbalance the server later.
            if released := await leaks.release():
                ledger.leaked_locks += released
                nudged = now
                continue
            if now - nudged > NUDGE.total_seconds():
                nudged = now
                if await task_in_flight(env.client, handle.id):
                    continue  # its lock is held for a reason: the task is being worked on
                try:
                    await service.unlock_time_skipping(UnlockTimeSkippingRequest())
                    ledger.clock_nudges += 1
                except RPCError:  # not locked after all
                    pass
            if now - since > STALL.total_seconds():
                state = await describe_wedge(env.client, handle.id)
                raise ServerWedged(
                    f"the simulation stopped making progress after {len(ledger.dials)} dials"
                    f" (time-skipping test server wedged: {state})"
                )
    finally:
        result.cancel()
