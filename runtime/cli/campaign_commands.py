"""``voxflow demo``, ``voxflow dev``, ``voxflow worker`` and ``voxflow campaign ...``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from runtime import tenancy
from runtime.cli import app, settings_or_exit
from runtime.client import Steering

if TYPE_CHECKING:
    from runtime.db.campaigns import CampaignStatus

campaign_app = typer.Typer(help="Start and steer campaigns (Temporal + PostgreSQL from the env).")
app.add_typer(campaign_app, name="campaign")
console = Console()


@app.command()
def demo(
    contacts: Annotated[
        int | None, typer.Option(help="Only the first N contacts of the CSV.")
    ] = None,
    watch: Annotated[
        float, typer.Option(help="Seconds to watch before printing the outcomes.")
    ] = 300.0,
    anytime: Annotated[
        bool,
        typer.Option(
            "--anytime",
            help="Call every contact now: windows replaced by every day, all day (demo only).",
        ),
    ] = False,
    flow_windows: Annotated[
        bool,
        typer.Option(
            "--flow-windows",
            help="Keep the flow's own calling windows and holidays (on a weekend or at night "
            "most contacts then wait for Monday).",
        ),
    ] = False,
) -> None:
    """Run the reminder campaign on the embedded stack over simulated callees.

    By default the flow's windows are replaced by one daily window open now for most
    contacts, so calls happen whatever the day and hour and the others show a window's wait.
    """
    from runtime.dev.demo import run_demo

    if anytime and flow_windows:
        console.print("[red]--anytime and --flow-windows contradict each other: pick one[/]")
        raise typer.Exit(2)
    settings = settings_or_exit()
    windows = "anytime" if anytime else "flow" if flow_windows else "demo"
    try:
        asyncio.run(
            run_demo(
                settings, console=console, limit=contacts, settle_timeout=watch, windows=windows
            )
        )
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: everything was stopped[/]")
        raise typer.Exit(130) from None


@app.command()
def dev() -> None:
    """Start the embedded stack (Temporal + UI, PostgreSQL, simulated PBX, worker, API)."""
    from runtime.dev.stack import embedded_stack

    settings = settings_or_exit()

    async def run() -> int:
        from runtime.dev.stack import StackFailed

        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):  # either one stops every process started
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        async with embedded_stack(settings, api=True) as stack:
            console.print(f"Temporal    {stack.temporal_address}  UI {stack.ui_url}")
            console.print(f"PostgreSQL  {stack.database_url.split('@')[-1]}")
            pbx = "simulated PBX" if stack.simulated else "Asterisk, AMI_HOST"
            console.print(f"AMI         {stack.ami[0]}:{stack.ami[1]} ({pbx})")
            if stack.inbound_audiosocket:
                console.print(f"AudioSocket {stack.inbound_audiosocket} (inbound calls)")
            if stack.api_url:
                console.print(f"API         {stack.api_url}  (OpenAPI at /docs)")
            if stack.studio_url:
                console.print(f"studio      {stack.studio_url}")
            console.print(f"state       {stack.state_dir}   Ctrl-C stops everything")
            try:
                await stack.supervise(stop)
            except StackFailed as failed:
                console.print(f"[red]{failed}[/]")
                return 1
        return 0

    code = 0
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(run())
    console.print("stopped")
    if code:
        raise typer.Exit(code)


@app.command()
def worker(
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            min=1,
            help="Worker processes to run (one per core): each its own AudioSocket port "
            "(AUDIOSOCKET_PORT + i) and task queue, sharing the AMI settings' Asterisk.",
        ),
    ] = 1,
) -> None:
    """Run a worker against TEMPORAL_ADDRESS, DATABASE_URL and the AMI settings."""
    if processes == 1:
        from runtime.worker import main

        main()
        return
    from runtime.worker_pool import main as pool_main

    pool_main(processes)


@campaign_app.command("start")
def campaign_start(
    flow: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The flow file.")],
    contacts: Annotated[Path, typer.Option("--contacts", exists=True, dir_okay=False)],
    name: Annotated[str | None, typer.Option(help="Campaign name (default: the flow's).")] = None,
) -> None:
    """Import the contacts, store the flow's IR and start the campaign workflow."""
    from dsl import load_flow
    from runtime.client import connect, plan_for, start_campaign
    from runtime.db import create_pool
    from runtime.db.campaigns import set_status
    from runtime.dev.demo import prepare_campaign

    settings = settings_or_exit()
    settings.require("temporal_address", "database_url", why="voxflow campaign start")
    flow_ir = load_flow(flow)
    if flow_ir.campaign is None:
        console.print(f"[red]{flow}: the flow has no campaign section[/]")
        raise typer.Exit(2)
    campaign = name or flow_ir.campaign.name

    async def run() -> None:
        pool = await create_pool(settings.database_url.get_secret_value())
        try:
            report = await prepare_campaign(pool, flow_ir, flow, campaign, contacts)
            for row in report.rejected:
                reasons = "; ".join(i.message for i in row.reasons)
                console.print(f"[yellow]{contacts}:{row.row}: rejected[/]: {reasons}")
            client = await connect(settings.temporal_address, settings.temporal_namespace)
            handle = await start_campaign(
                client,
                plan_for(flow_ir, campaign, tenant=tenancy.current()),
                task_queue=settings.task_queue,
            )
            await set_status(pool, campaign, "running")
        finally:
            await pool.close()
        console.print(f"campaign {campaign}: {len(report.contacts)} contacts, workflow {handle.id}")

    asyncio.run(run())


_STEERED: dict[Steering, CampaignStatus] = {
    "pause": "paused",
    "resume": "running",
    "stop": "stopped",
}
"""The campaign row's status after each signal (as ``POST /campaigns/{name}/<action>`` sets it)."""


def _signal(name: str, action: Steering) -> None:
    from runtime.client import connect, steer
    from runtime.db import create_pool
    from runtime.db.campaigns import set_status

    settings = settings_or_exit()
    settings.require("temporal_address", why=f"voxflow campaign {action}")

    async def run() -> None:
        client = await connect(settings.temporal_address, settings.temporal_namespace)
        await steer(client, name, action, tenancy.current())
        console.print(f"campaign {name}: {action} sent")
        if settings.database_url is None:
            return
        pool = await create_pool(settings.database_url.get_secret_value())
        try:
            await set_status(pool, name, _STEERED[action])
        finally:
            await pool.close()

    asyncio.run(run())


@campaign_app.command("pause")
def campaign_pause(name: str) -> None:
    """Stop granting new dials (calls in progress finish)."""
    _signal(name, "pause")


@campaign_app.command("resume")
def campaign_resume(name: str) -> None:
    _signal(name, "resume")


@campaign_app.command("stop")
def campaign_stop(name: str) -> None:
    """Stop the campaign: waiting contacts end as stopped, calls in progress finish."""
    _signal(name, "stop")


@campaign_app.command("list")
def campaign_list() -> None:
    """Every campaign of the tenant: its state (draft, running, paused, stopped, finished),
    contacts settled of the total, and when it last changed."""
    from rich.table import Table

    from runtime.db import create_pool
    from runtime.db.campaigns import list_campaigns
    from runtime.db.contacts import count_contacts

    settings = settings_or_exit()
    settings.require("database_url", why="voxflow campaign list")

    async def run() -> None:
        pool = await create_pool(settings.database_url.get_secret_value(), max_size=2)
        try:
            table = Table("campaign", "state", "settled", "updated (UTC)")
            for row in await list_campaigns(pool):
                counts = await count_contacts(pool, row.name)
                settled = counts.get("final", 0) + counts.get("stopped", 0)
                table.add_row(
                    row.name,
                    row.status,
                    f"{settled}/{sum(counts.values())}",
                    f"{row.updated_at:%Y-%m-%d %H:%M}",
                )
        finally:
            await pool.close()
        if table.row_count:
            console.print(table)
        else:
            console.print("no campaigns yet: `voxflow campaign start FLOW --contacts FILE`")

    asyncio.run(run())


@campaign_app.command("status")
def campaign_status(
    name: str,
    watch: Annotated[
        bool, typer.Option("--watch", help="Refresh until every contact is final (Ctrl-C ends).")
    ] = False,
    every: Annotated[float, typer.Option(min=0.5, help="Seconds between refreshes.")] = 2.0,
) -> None:
    """Where each contact stands (queued, waiting for its window, dialling, in call,
    scheduled, final), times in each contact's local time, and the workflow's progress."""
    from runtime.db import create_pool

    settings = settings_or_exit()
    settings.require("temporal_address", "database_url", why="voxflow campaign status")

    async def run() -> None:
        from rich.live import Live

        pool = await create_pool(settings.database_url.get_secret_value())
        try:
            board, view = await _status_view(settings, pool, name)
            if not watch:
                console.print(view)
                return
            with Live(view, console=console, refresh_per_second=4) as live:
                while not board.settled:
                    await asyncio.sleep(every)
                    board, view = await _status_view(settings, pool, name)
                    live.update(view)
        finally:
            await pool.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


async def _status_view(settings, pool, name: str):
    from datetime import UTC, datetime

    from rich.console import Group
    from rich.text import Text
    from temporalio.service import RPCError

    from runtime.cli.board_view import board_renderable
    from runtime.client import connect, progress
    from runtime.db.board import load_board
    from runtime.db.campaigns import get_campaign

    board = await load_board(pool, name, datetime.now(UTC))
    row = await get_campaign(pool, name)
    if board is None or row is None:
        console.print(f"[red]no campaign named {name!r}[/]: `voxflow campaign start` creates one")
        raise typer.Exit(2)
    if row.status in ("finished", "stopped") and board.settled:
        # Over: the stored row says how it ended (a closed workflow still answers queries
        # with its last state, which would read "running"). A stopped campaign whose calls
        # in progress have not ended yet still asks its workflow.
        line = (
            f"workflow: done; every contact settled (updated {row.updated_at:%Y-%m-%d %H:%M} UTC)"
        )
        return board, Group(
            board_renderable(name, board, state=row.status), Text(line, style="dim")
        )
    try:
        client = await connect(settings.temporal_address, settings.temporal_namespace)
        p = await progress(client, name, tenancy.current())
    except (RPCError, RuntimeError) as err:
        state, line = None, f"workflow not reachable: {getattr(err, 'message', err)}"
    else:
        state = "stopping" if p.stopping else "paused" if p.paused else "running"
        line = (
            f"workflow: {p.dispatched} contacts started, {p.finished} done, {p.in_call} holding"
            f" a dial slot (pacing {p.pacing.max_concurrent} at once)"
        )
    return board, Group(board_renderable(name, board, state=state), Text(line, style="dim"))
