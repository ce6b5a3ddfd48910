"""``voxflow demo``: the reminder campaign over simulated callees, on the embedded stack.

The same code path as production (dev server, PostgreSQL, AMI, worker process); only the
endpoints are local. Contacts whose calling window is closed now, or whose retry is due later,
end the demo as *scheduled* with their next attempt time: that is the campaign behaving.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dsl import load_flow
from dsl.ir import CallingWindow, Flow
from runtime.client import connect, plan_for, progress, start_campaign
from runtime.contacts import import_contacts
from runtime.contacts.importer import ImportOptions, ImportReport
from runtime.db import contacts as contacts_repo
from runtime.db import create_pool
from runtime.db.campaigns import create_campaign
from runtime.db.flows import save_flow
from runtime.dev.stack import embedded_stack
from runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEMO_FLOW = ROOT / "flows" / "reminder.flow"
DEMO_SCENARIOS = ROOT / "flows" / "demo" / "scenarios.yaml"


ALWAYS = (CallingWindow(days=(1, 2, 3, 4, 5, 6, 7), start="00:00", end="00:00"),)


def anytime_flow(flow_path: Path = DEMO_FLOW) -> Flow:
    """The demo flow with its calling windows replaced by every day, all day (``--anytime``)."""
    flow = load_flow(flow_path)
    assert flow.campaign is not None
    return dataclasses.replace(flow, campaign=dataclasses.replace(flow.campaign, windows=ALWAYS))


@dataclass
class DemoResult:
    campaign: str
    contacts: int
    rejected: int
    outcomes: dict[str, int]
    statuses: dict[str, int]
    ui_url: str | None


async def prepare_campaign(
    db: asyncpg.Pool,
    flow: Flow,
    flow_path: Path,
    name: str,
    contacts_path: Path | None = None,
    limit: int | None = None,
) -> ImportReport:
    """Store the flow's IR, create the campaign and import its contacts (rejections reported)."""
    assert flow.campaign is not None
    path = contacts_path or (flow_path.parent / flow.campaign.contacts.location)
    options = ImportOptions.for_source(
        flow.campaign.contacts, default_timezone=flow.agent.timezone, context=flow.agent.context
    )
    report = await asyncio.to_thread(import_contacts, path, options)
    flow_hash = await save_flow(db, flow)
    await create_campaign(db, name, flow_hash)
    chosen = report.contacts[:limit] if limit is not None else report.contacts
    await contacts_repo.store_contacts(db, name, chosen)
    return report


async def run_demo(
    settings: Settings,
    *,
    console: Console,
    flow_path: Path = DEMO_FLOW,
    scenarios: Path = DEMO_SCENARIOS,
    limit: int | None = None,
    settle_timeout: float = 300.0,
    flow: Flow | None = None,
) -> DemoResult:
    """Bring the stack up, run the campaign, print progress and outcomes, stop the stack.

    Args:
        flow: the IR to run instead of compiling ``flow_path`` (contacts stay relative to it).
    """
    flow = flow or await asyncio.to_thread(load_flow, flow_path)
    name = f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    console.print(f"[bold]voxflow demo[/]: campaign [cyan]{name}[/] from {flow_path.name}")
    with console.status("starting Temporal, PostgreSQL, the simulated PBX and a worker..."):
        stack_cm = embedded_stack(settings, scenarios=scenarios)
        stack = await stack_cm.__aenter__()
    try:
        console.print(f"Temporal UI: [link]{stack.ui_url}[/]  (state in {stack.state_dir})")
        client = await connect(stack.temporal_address, settings.temporal_namespace)
        pool = await create_pool(stack.database_url)
        try:
            report = await prepare_campaign(pool, flow, flow_path, name, limit=limit)
            total = len(report.contacts) if limit is None else min(limit, len(report.contacts))
            for row in report.rejected:
                console.print(
                    f"[yellow]row {row.row} rejected[/]: {'; '.join(i.message for i in row.reasons)}"
                )
            await start_campaign(client, plan_for(flow, name), task_queue=settings.task_queue)
            await _watch(client, name, total, console, settle_timeout)
            result = await _summary(pool, name, total, len(report.rejected), stack.ui_url, console)
        finally:
            await pool.close()
        console.print(f'Temporal UI: [link]{stack.ui_url}[/] (filter: VoxflowCampaign = "{name}")')
        return result
    finally:
        with console.status("stopping the stack..."):
            await stack_cm.__aexit__(None, None, None)


async def _watch(client, name: str, total: int, console: Console, limit_s: float) -> None:
    """Progress bar until every contact is final or scheduled (or ``limit_s`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("calling", total=total, detail="")
        while loop.time() < deadline:
            try:
                p = await progress(client, name)
            except Exception:  # the workflow's first task has not run yet
                await asyncio.sleep(0.5)
                continue
            settled = p.finished + p.scheduled
            detail = f"in call {p.in_call}, waiting {p.waiting_slot}, scheduled {p.scheduled}"
            bar.update(task, completed=settled, detail=detail)
            if p.exhausted and settled >= total and p.in_call == 0 and p.waiting_slot == 0:
                return
            await asyncio.sleep(0.5)
    console.print("[yellow]stopped watching: the campaign keeps its state in Temporal[/]")


async def _summary(
    pool: asyncpg.Pool, name: str, total: int, rejected: int, ui_url: str | None, console: Console
) -> DemoResult:
    rows = []
    cursor = None
    while True:
        page, cursor = await contacts_repo.contacts_page(pool, name, cursor, 500)
        rows.extend(page)
        if cursor is None:
            break
    table = Table(title=f"campaign {name}")
    for column in (
        "contact",
        "name",
        "time zone",
        "status",
        "outcome",
        "attempts",
        "next attempt (local)",
    ):
        table.add_column(column)
    outcomes: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if r.status == "final":
            outcomes[r.outcome or "none"] = outcomes.get(r.outcome or "none", 0) + 1
        nxt = ""
        if r.next_attempt_at is not None and r.status != "final":
            nxt = r.next_attempt_at.astimezone(ZoneInfo(r.timezone)).strftime("%a %d %b %H:%M %Z")
        table.add_row(r.id, r.name, r.timezone, r.status, r.outcome or "", str(r.attempts), nxt)
    console.print(table)
    counts = Table(title="outcomes")
    counts.add_column("outcome / status")
    counts.add_column("contacts", justify="right")
    for key, value in sorted(outcomes.items()):
        counts.add_row(f"final: {key}", str(value))
    for key, value in sorted(statuses.items()):
        if key != "final":
            counts.add_row(key, str(value))
    console.print(counts)
    if statuses.get("pending"):
        console.print(
            "pending: not dialled yet, waiting for a dial slot under the campaign's pacing"
            " (the campaign goes on in Temporal while `voxflow dev` runs)"
        )
    if rows and not any(r.attempts for r in rows):
        console.print(
            "[yellow]no contact was dialled: every calling window is closed right now[/] (the"
            " flow calls on weekdays in each contact's local time). Run [bold]voxflow demo"
            " --anytime[/] to replace the windows by every day, all day, and call them now."
        )
    return DemoResult(name, total, rejected, outcomes, statuses, ui_url)
