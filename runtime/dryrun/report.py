"""What a dry-run shows: dials per day and time zone, window and holiday compliance, retries
and callbacks fired, peak concurrency and when the campaign would complete."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from runtime.campaign.windows import is_open
from runtime.dryrun.activities import Ledger
from runtime.dryrun.callees import answered
from runtime.workflows.messages import CampaignPlan


@dataclass(frozen=True)
class DayZone:
    """The dials of one local day in one time zone."""

    day: date
    """The contacts' local date."""
    zone: str
    dials: int
    first: int
    retries: int
    callbacks: int
    answered: int
    outside_window: int
    on_holiday: int


@dataclass(frozen=True)
class SimulationReport:
    campaign: str
    started: datetime
    """The simulated clock when the campaign started (UTC)."""
    days: int
    contacts: int
    rows: list[DayZone]
    """Dials within the ``days`` simulated, by local day then zone."""
    dials: int
    """Dials within the ``days`` simulated."""
    dials_total: int
    """Dials until the campaign ended (beyond ``days`` too)."""
    outside_window: int
    """Dials, over the whole run, at a moment outside the contact's calling windows."""
    on_holiday: int
    """Dials, over the whole run, on a closed date (holiday) in the contact's zone."""
    retries: int
    callbacks: int
    peak_concurrency: int
    """Most attempts holding a dial slot at once (simulated calls take no simulated time)."""
    max_concurrent: int
    """The campaign's pacing limit, for comparison."""
    final_within: int
    """Contacts final within the ``days`` simulated."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """Final outcomes over the whole run."""
    completed_at: datetime | None = None
    """When the last contact ended (UTC): its last dial, calls taking no simulated time;
    None when no contact was dialled."""
    lost_results: int = 0
    """Attempts settled as ``unknown`` because an activity timed out (0 in a sound run)."""
    clock_nudges: int = 0
    """Times the test server's stuck clock was unlocked (``runtime.dryrun.run``)."""
    leaked_locks: int = 0
    """Time-skipping locks the test server leaked and the dry-run released
    (``runtime.dryrun.locks``)."""
    wedges: tuple[str, ...] = ()
    """Each earlier dry-run that wedged and was run again on a fresh server, as
    ``runtime.dryrun.wedge`` described it; the figures above are the last run's."""

    @property
    def horizon(self) -> datetime:
        return self.started + timedelta(days=self.days)


def build_report(
    ledger: Ledger, plan: CampaignPlan, started: datetime, days: int
) -> SimulationReport:
    windows, closed = plan.campaign.windows, plan.closed_dates
    horizon = started + timedelta(days=days)
    groups: dict[tuple[date, str], Counter[str]] = {}
    outside = holiday = 0
    last_dial: dict[str, datetime] = {}
    for d in ledger.dials:
        local_day = d.at.astimezone(ZoneInfo(d.timezone)).date()
        is_outside = not is_open(d.at, d.timezone, windows, closed)
        is_holiday = local_day.isoformat() in closed
        outside += is_outside
        holiday += is_holiday
        last_dial[d.contact_id] = max(d.at, last_dial.get(d.contact_id, d.at))
        if d.at >= horizon:
            continue
        counts = groups.setdefault((local_day, d.timezone), Counter())
        counts["dials"] += 1
        counts[d.cause] += 1
        counts["answered"] += answered(d.outcome)
        counts["outside"] += is_outside
        counts["holiday"] += is_holiday
    rows = [
        DayZone(
            day,
            zone,
            c["dials"],
            c["first"],
            c["retry"],
            c["callback"],
            c["answered"],
            c["outside"],
            c["holiday"],
        )  # fmt: skip
        for (day, zone), c in sorted(groups.items())
    ]
    finished = [cid for cid in ledger.finals if cid in last_dial]
    final_within = sum(1 for cid in ledger.finals if last_dial.get(cid, started) < horizon)
    return SimulationReport(
        campaign=plan.name,
        started=started,
        days=days,
        contacts=len(ledger.contacts),
        rows=rows,
        dials=sum(r.dials for r in rows),
        dials_total=len(ledger.dials),
        outside_window=outside,
        on_holiday=holiday,
        retries=sum(r.retries for r in rows),
        callbacks=sum(r.callbacks for r in rows),
        peak_concurrency=ledger.peak_in_flight,
        max_concurrent=plan.campaign.pacing.max_concurrent,
        final_within=final_within,
        outcomes=dict(Counter(ledger.finals.values())),
        completed_at=max((last_dial[c] for c in finished), default=None),
        lost_results=ledger.lost_results,
        clock_nudges=ledger.clock_nudges,
        leaked_locks=ledger.leaked_locks,
    )
