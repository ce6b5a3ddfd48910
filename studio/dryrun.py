"""The Campaigns page's dry-run: a flow's campaign on a simulated clock, from a button.

It runs what ``voxflow campaign simulate`` runs (``runtime.dryrun.simulate``: the real
campaign and contact workflows on Temporal's time-skipping test server, simulated callees
drawn from the default outcome mix, the flow's own contacts file) and shows the same report:
dials per local day and time zone, window and holiday compliance, retries and callbacks
fired, peak concurrency and projected completion. Nothing is dialled and nothing is stored.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path

import streamlit as st

from runtime.campaign.localtime import zone_city
from runtime.dryrun import SimulationReport
from studio import flowfiles

RESULT = "studio.dryrun.result"


def _run(path: Path, days: int, first_day: date) -> tuple[SimulationReport, float, list[str]]:
    """The dry-run's report, its wall time and the contacts rows it rejected.

    Raises:
        ValueError: the flow does not compile, has no campaign, or cannot be simulated
            (``SimulationError``); OSError: its contacts file cannot be read.
    """
    from runtime.dev.demo import read_contacts
    from runtime.dryrun import default_mix, simulate
    from runtime.dryrun.run import SimulationInput, contact_refs

    compiled = flowfiles.compile_text(path.read_text(encoding="utf-8"), str(path))
    flow = compiled.flow
    if flow is None:
        raise ValueError(f"{path.name} has errors; fix them on the Flows page first")
    if flow.campaign is None:
        raise ValueError(f"{path.name} has no campaign section to dry-run")
    contacts = read_contacts(flow, path)
    rejected = [
        f"row {r.row}: {'; '.join(i.message for i in r.reasons)}" for r in contacts.rejected
    ]
    began = time.perf_counter()
    report = asyncio.run(
        simulate(
            SimulationInput(
                flow, contact_refs(contacts.contacts), days, default_mix(flow), first_day
            )
        )
    )
    return report, time.perf_counter() - began, rejected


def render(flows_dir: Path) -> None:
    """The dry-run form, and the last report."""
    paths = [
        p
        for p in flowfiles.list_flows(flows_dir)
        if (flow := flowfiles.compile_text(p.read_text(encoding="utf-8"), str(p)).flow)
        and flow.campaign is not None
    ]
    if not paths:
        st.caption(f"No flow with a campaign section in {flows_dir.resolve()}.")
        return
    labels = [str(p.relative_to(flows_dir)) for p in paths]
    cols = st.columns([3, 1, 2], vertical_alignment="bottom")
    label = cols[0].selectbox("Flow to dry-run", labels, key="studio.dryrun.flow")
    days = int(cols[1].number_input("Days", min_value=1, max_value=31, value=7))
    first_day = cols[2].date_input("From (UTC day)", value=date.today(), min_value=date.today())
    st.caption(
        "Runs the campaign's real workflows over simulated days against simulated callees"
        " (the default outcome mix) with the flow's contacts file; nothing is dialled."
    )
    if st.button("Run dry-run", type="primary"):
        path = paths[labels.index(label)]
        with st.spinner(f"Simulating {days} days of {path.name}…"):
            try:
                st.session_state[RESULT] = (label, *_run(path, days, first_day))
            except (ValueError, OSError) as exc:
                st.session_state.pop(RESULT, None)
                st.error(f"The dry-run could not run: {exc}")
    if RESULT in st.session_state:
        show(*st.session_state[RESULT])


def show(label: str, report: SimulationReport, wall_s: float, rejected: list[str]) -> None:
    ok = not (report.outside_window or report.on_holiday)
    (st.success if ok else st.error)(
        f"{label}: compliance {'OK' if ok else 'FAILED'}: {report.outside_window} dials"
        f" outside a calling window, {report.on_holiday} on a holiday"
        f" (all {report.dials_total} dials of the run)"
    )
    metrics = st.columns(4)
    metrics[0].metric(f"Dials in {report.days} days", report.dials)
    metrics[1].metric("Retries / callbacks", f"{report.retries} / {report.callbacks}")
    metrics[2].metric("Peak concurrency", f"{report.peak_concurrency} of {report.max_concurrent}")
    metrics[3].metric("Final", f"{report.final_within} of {report.contacts}")
    if report.completed_at is not None:
        elapsed = report.completed_at - report.started
        st.caption(
            f"Projected completion: {report.completed_at:%a %d %b %Y %H:%M} UTC"
            f" (day {elapsed.days + 1}) · simulated from {report.started:%a %d %b %Y} UTC"
            f" · wall time {wall_s:.1f} s"
        )
    st.dataframe(
        [
            {
                "day": f"{r.day:%a %d %b}",
                "zone": zone_city(r.zone),
                "dials": r.dials,
                "first": r.first,
                "retries": r.retries,
                "callbacks": r.callbacks,
                "answered": r.answered,
                "outside window": r.outside_window,
                "on holiday": r.on_holiday,
            }
            for r in report.rows
        ],
        hide_index=True,
    )
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
    st.caption(f"Final outcomes: {outcomes}")
    for row in rejected:
        st.warning(f"Contacts file {row} (left out of the dry-run)")
    if report.lost_results:
        st.warning(
            f"{report.lost_results} attempts lost their result to an activity timeout in the"
            " simulation itself (the machine was too busy): figures are approximate."
        )
