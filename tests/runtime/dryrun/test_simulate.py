"""``voxflow campaign simulate``: the real campaign and contact workflows over simulated days
on the time-skipping test server, and what its report counts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import runtime.cli.simulate_commands  # noqa: F401 - registers the command
from dsl import load_flow
from runtime.campaign.windows import is_open
from runtime.cli import app
from runtime.client import plan_for
from runtime.dev.demo import DEMO_FLOW, read_contacts
from runtime.dryrun import default_mix, parse_mix, simulate
from runtime.dryrun.activities import Dial, Ledger
from runtime.dryrun.callees import MixError
from runtime.dryrun.report import build_report
from runtime.dryrun.run import SimulationError, SimulationInput, contact_refs

CHRISTMAS_WEEK = date(2026, 12, 21)
"""Mon 21 Dec: the reminder flow closes on 24 Dec (its own date) and 25 Dec (US, GB, FR)."""


def _demo():
    flow = load_flow(DEMO_FLOW)
    return flow, contact_refs(read_contacts(flow, DEMO_FLOW).contacts)


async def test_demo_contacts_over_christmas_week_dial_only_inside_windows_and_never_on_holidays():
    flow, contacts = _demo()

    report = await simulate(SimulationInput(flow, contacts, 7, default_mix(flow), CHRISTMAS_WEEK))

    assert report.started == datetime(2026, 12, 21, tzinfo=UTC)
    assert report.dials_total > len(contacts)  # every contact, and retries on top
    assert report.outside_window == 0 and report.on_holiday == 0
    days = {r.day for r in report.rows}
    assert date(2026, 12, 21) in days
    assert not days & {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 27)}
    assert report.retries > 0 and report.callbacks > 0
    assert sum(r.first for r in report.rows) == len(contacts)
    assert 0 < report.peak_concurrency <= flow.campaign.pacing.max_concurrent
    assert sum(report.outcomes.values()) == len(contacts)  # ran to the end: all final
    assert report.completed_at is not None and report.completed_at > report.started


def test_a_dial_outside_the_window_or_on_a_holiday_is_counted() -> None:
    flow, contacts = _demo()
    plan = plan_for(flow, "check", now=datetime(2026, 12, 1, tzinfo=UTC))
    ledger = Ledger(contacts[:2], default_mix(flow), 0)
    sunday_noon_ny = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    christmas_noon_ny = datetime(2026, 12, 25, 17, 0, tzinfo=UTC)
    ny = "America/New_York"
    assert not is_open(sunday_noon_ny, ny, plan.campaign.windows, plan.closed_dates)
    ledger.dials += [
        Dial("c001", ny, sunday_noon_ny, 1, "first", "busy"),
        Dial("c002", ny, christmas_noon_ny, 1, "first", "confirmed"),
    ]
    report = build_report(ledger, plan, datetime(2026, 12, 6, tzinfo=UTC), 30)
    assert (report.outside_window, report.on_holiday) == (2, 1)
    assert [(r.day, r.outside_window, r.on_holiday) for r in report.rows] == [
        (date(2026, 12, 6), 1, 0),
        (date(2026, 12, 25), 1, 1),
    ]


def test_mix_names_every_bad_entry_and_the_known_outcomes() -> None:
    flow, _ = _demo()
    with pytest.raises(MixError) as err:
        parse_mix("confirmed=2,maybe=1,busy=-1,oops", flow)
    message = str(err.value)
    assert "'maybe'" in message and "busy" in message and "'oops'" in message
    assert "rescheduled" in message  # the hint lists the flow's outcomes
    mix = parse_mix("confirmed=3, no_answer=1", flow)
    assert dict(mix.weights) == {"confirmed": 3.0, "no_answer": 1.0}


def test_draws_depend_on_seed_contact_and_attempt_only() -> None:
    flow, _ = _demo()
    mix = default_mix(flow)
    first = [mix.draw(7, f"c{i}", n) for i in range(40) for n in (1, 2)]
    assert first == [mix.draw(7, f"c{i}", n) for i in range(40) for n in (1, 2)]
    assert len(set(first)) > 3


async def test_a_start_day_in_the_past_is_refused_with_the_reason() -> None:
    flow, contacts = _demo()
    with pytest.raises(SimulationError, match="in the past"):
        await simulate(SimulationInput(flow, contacts, 7, default_mix(flow), date(2020, 1, 6)))


def test_cli_reports_per_day_and_zone_and_compliance(tmp_path: Path) -> None:
    rows = (DEMO_FLOW.parent / "contacts" / "reminder.csv").read_text().splitlines()
    small = tmp_path / "few.csv"
    small.write_text("\n".join(rows[:4] + rows[30:32]) + "\n")

    result = CliRunner().invoke(
        app,
        ["campaign", "simulate", str(DEMO_FLOW), "--contacts", str(small), "--days", "3",
         "--from", "2026-12-21", "--mix", "no_answer=1,confirmed=1"],
        terminal_width=80,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "compliance OK: 0 dials outside a calling window, 0 on a holiday" in result.output
    assert "Mon 21 Dec" in result.output and "New_York" in result.output
    assert "London" in result.output
    assert "projected completion" in result.output


@pytest.mark.parametrize("campaign_task_in_flight", [False, True])
async def test_a_run_that_stops_progressing_ends_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, campaign_task_in_flight: bool
) -> None:
    import asyncio
    from datetime import timedelta

    from runtime.dryrun import run

    class Wedged:
        id = "campaign/dryrun-reminder"

        async def result(self) -> None:
            await asyncio.Event().wait()  # the wedged server: no result, ever

    class Unlocks:
        def __init__(self) -> None:
            self.calls = 0

        async def unlock_time_skipping(self, request: object) -> None:
            self.calls += 1

    class NoLeaks:  # as LeakedLocks finds when no child outlived its campaign run
        async def release(self) -> int:
            return 0

    service = Unlocks()
    env = SimpleNamespace(
        client=SimpleNamespace(service_client=SimpleNamespace(test_service=service))
    )

    async def described(client: object, campaign: str) -> str:
        return f"{campaign} waits"

    async def in_flight(client: object, campaign: str) -> bool:
        return campaign_task_in_flight

    monkeypatch.setattr(run, "describe_wedge", described)
    monkeypatch.setattr(run, "task_in_flight", in_flight)
    monkeypatch.setattr(run, "STALL", timedelta(seconds=2))
    monkeypatch.setattr(run, "NUDGE", timedelta(seconds=0.5))
    flow, contacts = _demo()
    ledger = Ledger(contacts, default_mix(flow), 0)
    with pytest.raises(run.ServerWedged, match="stopped making progress") as err:
        await run._result_while_progressing(env, Wedged(), ledger, NoLeaks())
    assert "campaign/dryrun-reminder waits" in str(err.value)  # what the server was doing
    if campaign_task_in_flight:  # its lock is held for a reason: never taken
        assert service.calls == 0 and ledger.clock_nudges == 0
    else:  # tried to unstick it
        assert service.calls >= 1 and ledger.clock_nudges == service.calls


async def test_contacts_outliving_a_campaign_run_do_not_stall_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runtime.dryrun import run

    monkeypatch.setattr(run, "HISTORY_LIMIT", 300)  # several continue-as-new on 50 contacts
    flow, contacts = _demo()

    report = await simulate(SimulationInput(flow, contacts, 7, default_mix(flow), CHRISTMAS_WEEK))

    assert report.leaked_locks > 0  # contacts ended after the run that started them
    assert report.clock_nudges == 0  # every leaked lock found and released
    assert report.outside_window == 0 and report.on_holiday == 0
    assert sum(report.outcomes.values()) == len(contacts)
