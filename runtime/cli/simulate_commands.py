"""``voxflow campaign simulate``: a campaign's dry-run on a simulated clock."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from runtime.campaign.localtime import zone_city
from runtime.cli.campaign_commands import campaign_app
from runtime.dryrun import SimulationReport

console = Console()


@campaign_app.command("simulate")
def campaign_simulate(
    flow: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The flow file.")],
    contacts: Annotated[
        Path | None,
        typer.Option("--contacts", exists=True, dir_okay=False, help="Default: the flow's."),
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="Simulated days to report.")] = 7,
    start: Annotated[
        str | None,
        typer.Option("--from", help="First simulated day, YYYY-MM-DD (default: today, UTC)."),
    ] = None,
    mix: Annotated[
        str | None,
        typer.Option(
            help="Outcome mix of the simulated callees, e.g. 'confirmed=50,no_answer=30,busy=20'"
            " (default: no_answer 25%, busy 10%, voicemail 10%, the rest over the flow's"
            " outcomes)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the callees' draws.")] = 0,
) -> None:
    """Dry-run the campaign: the real workflows on Temporal's time-skipping test server,
    against simulated callees. Nothing is dialled, nothing is stored."""
    from dsl import load_flow
    from dsl.diagnostics import CompileError
    from runtime.dev.demo import read_contacts
    from runtime.dryrun import default_mix, parse_mix, simulate
    from runtime.dryrun.callees import MixError
    from runtime.dryrun.run import SimulationError, SimulationInput, contact_refs

    try:
        flow_ir = load_flow(flow)
    except CompileError as exc:
        console.print(f"[red]{flow}: the flow does not compile[/]\n{exc}")
        raise typer.Exit(2) from None
    if flow_ir.campaign is None:
        console.print(f"[red]{flow}: the flow has no campaign section to simulate[/]")
        raise typer.Exit(2)
    try:
        first_day = date.fromisoformat(start) if start else None
    except ValueError:
        console.print(f"[red]--from {start!r} is not a date: write it YYYY-MM-DD[/]")
        raise typer.Exit(2) from None
    try:
        outcome_mix = parse_mix(mix, flow_ir) if mix else default_mix(flow_ir)
    except MixError as exc:
        console.print(f"[red]--mix: {exc}[/]")
        raise typer.Exit(2) from None
    report = read_contacts(flow_ir, flow, contacts)
    for row in report.rejected:
        reasons = "; ".join(i.message for i in row.reasons)
        console.print(f"[yellow]row {row.row} rejected[/]: {reasons}")
    refs = contact_refs(report.contacts)
    console.print(
        f"simulating {len(refs)} contacts over {days} days; callees: {outcome_mix.describe()}"
    )
    began = time.perf_counter()
    try:
        with console.status("running the campaign on the time-skipping test server..."):
            result = asyncio.run(
                simulate(SimulationInput(flow_ir, refs, days, outcome_mix, first_day, seed))
            )
    except (SimulationError, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    print_report(result, console)
    for wedge in result.wedges:
        console.print(f"[yellow]made again on a fresh test server: {wedge}[/]")
    console.print(f"wall time {time.perf_counter() - began:.1f} s")
    if result.outside_window or result.on_holiday:
        raise typer.Exit(1)


def print_report(report: SimulationReport, out: Console) -> None:
    """The report as tables that fit 80 columns."""
    table = Table(
        title=f"dials per local day and time zone, {report.started:%Y-%m-%d %H:%M} UTC"
        f" + {report.days} days",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title_justify="left",
    )
    for column in ("day", "zone", "dials", "1st", "retry", "callbk", "answer", "outside", "hol."):
        table.add_column(column, justify="left" if column in ("day", "zone") else "right")
    for r in report.rows:
        table.add_row(
            f"{r.day:%a %d %b}", zone_city(r.zone), *map(str, (r.dials, r.first, r.retries, r.callbacks)),
            *map(str, (r.answered, r.outside_window, r.on_holiday)),
        )  # fmt: skip
    out.print(table)
    verdict = "[green]OK[/]" if not (report.outside_window or report.on_holiday) else "[red]FAIL[/]"
    out.print(
        f"compliance {verdict}: {report.outside_window} dials outside a calling window,"
        f" {report.on_holiday} on a holiday (all {report.dials_total} dials of the run)"
    )
    out.print(
        f"dials in {report.days} days: {report.dials} ({report.retries} retries,"
        f" {report.callbacks} callbacks fired); peak concurrency {report.peak_concurrency}"
        f" (pacing allows {report.max_concurrent}; simulated calls take no time)"
    )
    out.print(
        f"contacts final within {report.days} days: {report.final_within} of {report.contacts}"
    )
    if report.completed_at is not None:
        elapsed = report.completed_at - report.started
        out.print(
            f"projected completion: {report.completed_at:%a %d %b %Y %H:%M} UTC"
            f" (day {elapsed.days + 1}), {report.dials_total} dials in all"
        )
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
    out.print(f"final outcomes: {outcomes}")
    if report.lost_results:
        out.print(
            f"[yellow]{report.lost_results} attempts lost their result to an activity timeout"
            " in the simulation itself (the machine was too busy): figures are approximate[/]"
        )
