"""A campaign over a simulated week, on the time-skipping test server.

Contacts in New York (across its DST change), Paris, Kolkata and Sydney; scripted PBX
results. The dial times asserted on are the server's (time-skipped) schedule times.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule, Pacing
from runtime.campaign.windows import is_open
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.messages import (
    SHARED_TASK_QUEUE,
    CampaignInput,
    CampaignPlan,
    CampaignResult,
    ContactRef,
)
from runtime.workflows.sandbox import workflow_runner
from tests.workflows.scripted import Recorder, Step, campaign_workers

NY = "America/New_York"
WINDOWS = (CallingWindow(days=(1, 2, 3, 4, 5), start="09:00", end="17:00"),)
HISTORIES = Path(__file__).parent / "histories"


def next_dst_change(zone: str, after: datetime) -> datetime:
    """The first hour after ``after`` at which ``zone``'s UTC offset changes."""
    tz = ZoneInfo(zone)
    moment = after.replace(minute=0, second=0, microsecond=0)
    offset = moment.astimezone(tz).utcoffset()
    while moment.astimezone(tz).utcoffset() == offset:
        moment += timedelta(hours=1)
    return moment


def callback_same_day_1430(zone: str):
    """The callee asks to be called back at 14:30 their time, the day of the call."""

    def at(dialled: datetime) -> datetime:
        local = dialled.astimezone(ZoneInfo(zone))
        return datetime.combine(local.date(), time(14, 30), ZoneInfo(zone))

    return at


def week_campaign(closed: tuple[str, ...]) -> CampaignPlan:
    campaign = Campaign(
        name="week",
        contacts=ContactsSource(kind="csv", location="contacts.csv"),
        windows=WINDOWS,
        rules=(
            # ``max`` counts retries: busy 3 attempts, no answer 3, voicemail 2, unknown 2.
            OutcomeRule("busy", "retry", delay_ms=15 * 60_000, max_attempts=2),
            OutcomeRule("no_answer", "retry", delay_ms=24 * 3_600_000, max_attempts=2),
            OutcomeRule("voicemail", "retry", delay_ms=4 * 3_600_000, max_attempts=1),
            OutcomeRule("unknown", "retry", delay_ms=10 * 60_000, max_attempts=1),
            OutcomeRule("callback", "callback"),
            OutcomeRule("opted_out", "dnc"),
            OutcomeRule("confirmed", "final"),
        ),
        pacing=Pacing(max_concurrent=2),
        max_attempts=5,
    )
    return CampaignPlan(
        name="week", flow_hash="sha256:test", campaign=campaign, closed_dates=closed
    )


CONTACTS = [
    ContactRef("ny-busy", "+12125550101", NY, "Ann"),
    ContactRef("ny-noanswer", "+12125550102", NY, "Bob"),
    ContactRef("paris-callback", "+33155550103", "Europe/Paris", "Chloé"),
    ContactRef("kolkata-optout", "+912255550104", "Asia/Kolkata", "Dev"),
    ContactRef("sydney-voicemail", "+61255550105", "Australia/Sydney", "Eve"),
    ContactRef("paris-crash", "+33155550106", "Europe/Paris", "Fay"),
    ContactRef("ny-refused", "+12125550107", NY, "Gus"),
]

SCRIPTS = {
    "ny-busy": [Step("busy"), Step("busy"), Step("answer")],
    "ny-noanswer": [Step("no_answer")] * 3,
    "paris-callback": [
        Step("answer", "callback", callback_same_day_1430("Europe/Paris")),
        Step("answer"),
    ],
    "kolkata-optout": [Step("answer", "opted_out")],
    "sydney-voicemail": [Step("voicemail"), Step("voicemail")],
    "paris-crash": [Step("crash"), Step("answer")],
    "ny-refused": [Step("outside_window"), Step("answer")],
}


def noanswer_monday(recorder: Recorder) -> datetime:
    """When ny-noanswer's second attempt happened (after a weekend wait for its window)."""
    return recorder.dials_of("ny-noanswer")[1].at.replace(microsecond=0)


async def run_week(env: WorkflowEnvironment, recorder: Recorder, plan: CampaignPlan):
    client = env.client
    async with campaign_workers(client, recorder, recorder.call_activities()):
        handle: WorkflowHandle = await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(plan, page_size=2, max_live=10),
            id="campaign/week",
            task_queue=SHARED_TASK_QUEUE,
        )
        result = await handle.result()
    return handle, result


async def test_campaign_week_across_time_zones_and_dst(env: WorkflowEnvironment) -> None:
    now = await env.get_current_time()
    change = next_dst_change(NY, now + timedelta(days=3))
    # Start on the Friday before the Sunday of New York's change, 00:00 UTC.
    friday = (change - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    await env.sleep(friday - now)
    tuesday_after = (change.astimezone(ZoneInfo(NY)).date() + timedelta(days=2)).isoformat()
    plan = week_campaign(closed=(tuesday_after,))
    recorder = Recorder(CONTACTS, SCRIPTS)

    handle, result = await run_week(env, recorder, plan)

    assert isinstance(result, CampaignResult)
    assert result.dispatched == len(CONTACTS) and result.finished == len(CONTACTS)
    assert result.outcomes == {
        "confirmed": 4,
        "no_answer": 1,
        "opted_out": 1,
        "voicemail": 1,
    }
    # No dial outside any window (local weekday, hours, holiday), whatever the zone.
    for dial in recorder.dials:
        local = dial.at.astimezone(ZoneInfo(dial.timezone))
        assert is_open(dial.at, dial.timezone, WINDOWS, plan.closed_dates), (dial, local)
        assert local.date().isoformat() != tuesday_after
    # At most once: each attempt recorded before its only dial; attempt ids never reused.
    dialled_ids = [a for kind, a in recorder.events if kind == "dialled"]
    assert len(dialled_ids) == len(set(dialled_ids))
    for attempt in dialled_ids:
        assert recorder.events.index(("recorded", attempt)) < recorder.events.index(
            ("dialled", attempt)
        )

    # No contact lost: one waiting for its window is recorded as scheduled with the time.
    waits = [st for st in recorder.states if st.contact_id == "ny-noanswer"]
    assert waits and all(st.status == "scheduled" and st.next_at for st in waits)
    assert noanswer_monday(recorder) in [st.next_at for st in waits]

    # Retries at the declared delays.
    busy = [d.at for d in recorder.dials_of("ny-busy")]
    assert len(busy) == 3
    for earlier, later in zip(busy, busy[1:], strict=False):
        assert timedelta(minutes=15) <= later - earlier < timedelta(minutes=15, seconds=5)
    first_local = busy[0].astimezone(ZoneInfo(NY))
    assert (first_local.hour, first_local.minute) == (9, 0)

    # 24 h retry across the weekend and the DST change: still 09:00 on New York's wall clock,
    # one hour further in UTC; the closed Tuesday is skipped.
    noanswer = [d.at for d in recorder.dials_of("ny-noanswer")]
    local = [d.astimezone(ZoneInfo(NY)) for d in noanswer]
    assert [(t.isoweekday(), t.hour, t.minute) for t in local] == [(5, 9, 0), (1, 9, 0), (3, 9, 0)]
    assert noanswer[0].astimezone(UTC).hour != noanswer[1].astimezone(UTC).hour
    assert local[0].utcoffset() != local[1].utcoffset()

    # Callback at the requested local time (14:30 in Paris, the same day).
    callback = recorder.dials_of("paris-callback")
    requested = callback_same_day_1430("Europe/Paris")(callback[0].at)
    assert timedelta(0) <= callback[1].at - requested < timedelta(seconds=5)
    assert callback[1].at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M") == "14:30"

    # Opt-out goes to do-not-call; a lost dial is retried after the rule's delay, not re-dialled.
    assert [(e.contact_id, e.reason) for e in recorder.dnc] == [("kolkata-optout", "opted_out")]
    crash = [d.at for d in recorder.dials_of("paris-crash")]
    assert timedelta(minutes=10) <= crash[1] - crash[0] < timedelta(minutes=11)
    crash_end = next(
        e for e in recorder.ends if e.attempt_id == recorder.dials_of("paris-crash")[0].attempt_id
    )
    assert (crash_end.outcome, crash_end.action, crash_end.dialled) == ("unknown", "retry", True)
    # A dial refused at dial time is recorded as not dialled and costs no attempt.
    refused = [e for e in recorder.ends if e.contact_id == "ny-refused"]
    assert [(e.outcome, e.action, e.dialled) for e in refused][0] == (
        "not_dialled",
        "window",
        False,
    )

    # Voicemail retried once after 4 h (cap 2), within Sydney's window.
    vm = [d.at for d in recorder.dials_of("sydney-voicemail")]
    assert len(vm) == 2 and vm[1] - vm[0] >= timedelta(hours=4)

    if os.environ.get("VOXFLOW_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        for wid in ("campaign/week", "campaign/week/ny-noanswer", "campaign/week/paris-callback"):
            history = await env.client.get_workflow_handle(wid).fetch_history()
            name = wid.replace("/", "_") + ".json"
            (HISTORIES / name).write_text(json.dumps(history.to_json_dict(), indent=1))

    # The histories this run produced replay deterministically.
    replayer = Replayer(
        workflows=[CampaignWorkflow, ContactWorkflow],
        data_converter=env.client.data_converter,
        workflow_runner=workflow_runner(),
    )
    for wid in ("campaign/week", "campaign/week/paris-crash", "campaign/week/ny-busy"):
        history = await env.client.get_workflow_handle(wid).fetch_history()
        await replayer.replay_workflow(history)
