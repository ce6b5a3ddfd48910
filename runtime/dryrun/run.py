"""Run a campaign's real workflows over simulated days (``voxflow campaign simulate``).

The campaign and contact workflows run sandboxed, as in production, on the time-skipping test
server; the server's clock starts at the chosen day's midnight UTC and skips to whatever the
workflows wait for. The campaign runs to its end (every contact final), so the report can say
when it would complete; the per-day figures cover the days asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from temporalio.worker import Worker

from dsl.ir import Flow
from runtime.client import plan_for
from runtime.contacts.importer import Contact
from runtime.dryrun.activities import CALL_QUEUE, Ledger
from runtime.dryrun.callees import OutcomeMix
from runtime.dryrun.report import SimulationReport, build_report
from runtime.dryrun.server import time_skipping_server
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.messages import SHARED_TASK_QUEUE, CampaignInput, ContactRef
from runtime.workflows.sandbox import workflow_runner
from runtime.workflows.search import campaign_workflow_id


def contact_refs(contacts: Sequence[Contact]) -> list[ContactRef]:
    """Imported contacts as the campaign workflow reads them (``campaign_contacts_page``)."""
    return [
        ContactRef(c.id, c.phone, c.timezone, c.name, {k: str(v) for k, v in c.columns.items()})
        for c in contacts
    ]


class SimulationError(ValueError):
    """A dry-run that cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class SimulationInput:
    flow: Flow
    contacts: Sequence[ContactRef]
    days: int
    mix: OutcomeMix
    start: date | None = None
    """The first simulated day (midnight UTC); None: today."""
    seed: int = 0


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
    ledger = Ledger(list(arg.contacts), arg.mix, arg.seed, callback_outcomes)
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
                workflow_runner=workflow_runner(),
                max_concurrent_workflow_tasks=50,
            ),
            Worker(client, task_queue=CALL_QUEUE, activities=ledger.call_activities()),
        ):
            handle = await client.start_workflow(
                CampaignWorkflow.run,
                CampaignInput(plan, page_size=100, max_live=max(1000, len(arg.contacts))),
                id=campaign_workflow_id(plan.name),
                task_queue=SHARED_TASK_QUEUE,
            )
            await handle.result()
    return build_report(ledger, plan, started, arg.days)
