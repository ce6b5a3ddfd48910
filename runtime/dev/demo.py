"""``voxflow demo``: the reminder campaign over simulated callees, on the embedded stack.

The same code path as production (dev server, PostgreSQL, AMI, worker process); only the
endpoints are local. A first run must show calls whatever the day and hour, and still show
what calling windows do: by default the demo replaces the flow's windows by one daily window
chosen from the clock, open now for most contacts and closed for the rest (and no holidays).
Contacts outside it, or whose retry is due later, end the demo as *scheduled* with their next
attempt in their own local time: that is the campaign behaving. ``--flow-windows`` keeps the
flow's own windows; ``--anytime`` opens every hour.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dsl import load_flow
from dsl.ir import CallingWindow, Flow, Holidays
from runtime.campaign import windows as window_rules
from runtime.campaign.localtime import by_instant, format_local, zone_city
from runtime.client import connect, plan_for, progress, start_campaign
from runtime.contacts import import_contacts
from runtime.contacts.importer import ImportOptions, ImportReport
from runtime.db import contacts as contacts_repo
from runtime.db import create_pool
from runtime.db.campaigns import create_campaign, set_status
from runtime.db.flows import save_flow
from runtime.dev.stack import embedded_stack
from runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEMO_FLOW = ROOT / "flows" / "reminder.flow"
DEMO_SCENARIOS = ROOT / "flows" / "demo" / "scenarios.yaml"


EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)
ALWAYS = (CallingWindow(days=EVERY_DAY, start="00:00", end="00:00"),)
DEMO_WINDOW_HOURS = 10
"""Long enough for the demo's retries (15 min for busy) to be dialled while it watches."""

Clock = Callable[[], datetime]
WindowChoice = Literal["demo", "flow", "anytime"]
"""``demo``: one daily window open now for most contacts; ``flow``: the flow's own windows and
holidays; ``anytime``: every day, all day."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def with_windows(
    flow: Flow, windows: tuple[CallingWindow, ...], *, holidays: Holidays | None = None
) -> Flow:
    """``flow`` whose campaign calls in ``windows`` (and ``holidays`` when given)."""
    assert flow.campaign is not None
    campaign = dataclasses.replace(flow.campaign, windows=windows)
    if holidays is not None:
        campaign = dataclasses.replace(campaign, holidays=holidays)
    return dataclasses.replace(flow, campaign=campaign)


def anytime_flow(flow_path: Path = DEMO_FLOW) -> Flow:
    """The demo flow with its calling windows replaced by every day, all day (``--anytime``)."""
    return with_windows(load_flow(flow_path), ALWAYS, holidays=Holidays())


@dataclass(frozen=True)
class DemoWindow:
    window: CallingWindow
    open_now: int
    """How many of the contacts are inside it at the moment it was chosen."""
    total: int

    def describe(self) -> str:
        w = self.window
        return (
            f"every day {w.start}-{w.end} in each contact's local time, open now for"
            f" {self.open_now} of {self.total} contacts"
        )


def demo_window(now: datetime, zones: Sequence[str], hours: int = DEMO_WINDOW_HOURS) -> DemoWindow:
    """The daily window of ``hours`` hours, starting on the hour, open at ``now`` for the most
    contacts (``zones``: one IANA zone per contact); ties go to the window that leaves those
    contacts the most open time."""
    local = [now.astimezone(ZoneInfo(z)) for z in zones]
    minutes = [t.hour * 60 + t.minute for t in local]

    def rank(start: int) -> tuple[int, int]:
        ages = [(m - start * 60) % 1440 for m in minutes]
        inside = [a for a in ages if a < hours * 60]
        return len(inside), -sum(inside)

    start = max(range(24), key=rank)
    end = (start + hours) % 24
    window = CallingWindow(EVERY_DAY, f"{start:02d}:00", f"{end:02d}:00" if end else "24:00")
    open_now = sum(window_rules.is_open(now, z, (window,)) for z in zones)
    return DemoWindow(window, open_now, len(zones))


@dataclass
class DemoResult:
    campaign: str
    contacts: int
    rejected: int
    outcomes: dict[str, int]
    statuses: dict[str, int]
    ui_url: str | None


def read_contacts(flow: Flow, flow_path: Path, contacts_path: Path | None = None) -> ImportReport:
    """The flow's contacts file (or ``contacts_path``) read and checked against its context."""
    assert flow.campaign is not None
    path = contacts_path or (flow_path.parent / flow.campaign.contacts.location)
    options = ImportOptions.for_source(
        flow.campaign.contacts, default_timezone=flow.agent.timezone, context=flow.agent.context
    )
    return import_contacts(path, options)


async def prepare_campaign(
    db: asyncpg.Pool,
    flow: Flow,
    flow_path: Path,
    name: str,
    contacts_path: Path | None = None,
    limit: int | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Store the flow's IR, create the campaign and import its contacts (rejections reported).

    Args:
        report: the contacts already read (:func:`read_contacts`); read here when None.
    """
    if report is None:
        report = await asyncio.to_thread(read_contacts, flow, flow_path, contacts_path)
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
    windows: WindowChoice = "demo",
    clock: Clock = utc_now,
) -> DemoResult:
    """Bring the stack up, run the campaign, print progress and outcomes, stop the stack.

    Args:
        flow: the IR to run as it is instead of compiling ``flow_path`` (contacts stay
            relative to it; ``windows`` is then not applied).
        windows: which calling windows the demo campaign uses (:data:`WindowChoice`).
        clock: the moment the demo window is chosen for (the calls themselves happen at the
            wall clock, checked again by the dial activity).
    """
    report: ImportReport | None = None
    if flow is None:
        flow = await asyncio.to_thread(load_flow, flow_path)
        if windows != "flow":
            report = await asyncio.to_thread(read_contacts, flow, flow_path)
            flow = _demo_flow(flow, windows, report, limit, clock(), console)
    name = f"demo-{clock():%Y%m%d-%H%M%S}"
    console.print(f"[bold]voxflow demo[/]: campaign [cyan]{name}[/] from {flow_path.name}")
    with console.status("starting Temporal, PostgreSQL, the simulated PBX and a worker..."):
        stack_cm = embedded_stack(settings, scenarios=scenarios)
        stack = await stack_cm.__aenter__()
    try:
        console.print(f"Temporal UI: [link]{stack.ui_url}[/]  (state in {stack.state_dir})")
        client = await connect(stack.temporal_address, settings.temporal_namespace)
        pool = await create_pool(stack.database_url)
        try:
            report = await prepare_campaign(pool, flow, flow_path, name, limit=limit, report=report)
            total = len(report.contacts) if limit is None else min(limit, len(report.contacts))
            for row in report.rejected:
                console.print(
                    f"[yellow]row {row.row} rejected[/]: {'; '.join(i.message for i in row.reasons)}"
                )
            plan = plan_for(flow, name, now=clock())
            await start_campaign(client, plan, task_queue=settings.task_queue)
            await set_status(pool, name, "running")
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


def _demo_flow(
    flow: Flow,
    windows: WindowChoice,
    report: ImportReport,
    limit: int | None,
    now: datetime,
    console: Console,
) -> Flow:
    if windows == "anytime":
        console.print("[yellow]--anytime: calling windows replaced by every day, all day[/]")
        return with_windows(flow, ALWAYS, holidays=Holidays())
    contacts = report.contacts[:limit] if limit is not None else report.contacts
    chosen = demo_window(now, [c.timezone for c in contacts])
    console.print(
        f"demo window: {chosen.describe()}; no holidays. The others wait for its next"
        " opening, as a campaign does (--flow-windows keeps the flow's own windows)."
    )
    return with_windows(flow, (chosen.window,), holidays=Holidays())


def contacts_table(rows: Sequence[contacts_repo.ContactRow], title: str) -> Table:
    """One line per contact, fitting 80 columns; next attempts in the contact's local time
    with its zone, sorted by instant (final contacts last)."""
    table = Table(title=title, box=None, pad_edge=False, title_justify="left")
    for column in ("contact", "zone", "status", "outcome", "tries", "next, local time"):
        table.add_column(column, no_wrap=True, overflow="ellipsis")
    waiting = [r for r in rows if r.status != "final"]
    ordered = by_instant(waiting, lambda r: r.next_attempt_at)
    ordered += sorted((r for r in rows if r.status == "final"), key=lambda r: r.id)
    for r in ordered:
        nxt = ""
        if r.next_attempt_at is not None and r.status != "final":
            nxt = format_local(r.next_attempt_at, r.timezone)
        who = f"{r.id} {r.name}".strip()
        table.add_row(
            who[:14], zone_city(r.timezone), r.status, r.outcome or "", str(r.attempts), nxt
        )
    return table


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
    console.print(contacts_table(rows, f"campaign {name}"))
    outcomes: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if r.status == "final":
            outcomes[r.outcome or "none"] = outcomes.get(r.outcome or "none", 0) + 1
    counts = Table(title="outcomes", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
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
            "[yellow]no contact was dialled: every calling window is closed right now[/]."
            " Run [bold]voxflow demo[/] without --flow-windows to call in a window open now."
        )
    return DemoResult(name, total, rejected, outcomes, statuses, ui_url)
