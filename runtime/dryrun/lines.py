"""Tenants sharing a PBX's lines on a simulated clock, against the real line claim.

Each tenant's campaign ``(start second, contacts, concurrency)`` is driven the way the contact
workflows drive the claim (``runtime/workflows/contact.py``): a contact claims a line at dial
time (``attempts.claim_for_dial``, the database function ``voxflow_claim_line``) and, refused,
claims again ``LINE_RECHECK`` later; a call holds its line 15-45 s, then its attempt ends and
the campaign's next contact starts. Only time is simulated. The tests and
``bench/tenant_lines.py`` use it to show how lines are shared.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg

from runtime import tenancy
from runtime.db import attempts
from runtime.workflows.contact import LINE_RECHECK

LINES = 5
RECHECK = LINE_RECHECK.total_seconds()


@dataclass
class Run:
    first_start: dict[str, float] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=dict)
    peak_lines: int = 0
    peak_by_tenant: dict[str, int] = field(default_factory=dict)


async def simulate_lines(
    pool: asyncpg.Pool,
    campaigns: dict[str, tuple[float, int, int]],
    *,
    until: float,
    wait_ttl: timedelta = attempts.LINE_WAIT_TTL,
    tag: str,
    lines_total: int = LINES,
    watch: str | None = None,
) -> Run:
    """Run each tenant's campaign ``(start, contacts, concurrency)`` until ``until`` seconds
    of simulated time, or until every contact of ``watch`` (None: of every tenant) has been
    dialled."""
    rnd = random.Random(7)
    seq = itertools.count()
    events: list[tuple[float, int, str, str, str]] = []  # (time, order, kind, tenant, attempt)
    queued = {t: n for t, (_, n, _) in campaigns.items()}
    live = {t: 0 for t in campaigns}
    lines = {t: 0 for t in campaigns}
    run = Run(started={t: 0 for t in campaigns})

    async def next_contact(tenant: str, now: float) -> None:
        if queued[tenant] == 0:
            return
        queued[tenant] -= 1
        live[tenant] += 1
        attempt = f"{tag}-{tenant}-{queued[tenant]}"
        with tenancy.acting_as(tenant):
            await attempts.record_dialing(
                pool, attempt, campaign="c", contact=attempt, number=1, phone="+15550100000"
            )
        heapq.heappush(events, (now, next(seq), "claim", tenant, attempt))

    for tenant, (start, _, concurrency) in campaigns.items():
        for _ in range(concurrency):
            await next_contact(tenant, start)
    while events:
        now, _, kind, tenant, attempt = heapq.heappop(events)
        if now > until:
            break
        if kind == "claim":
            with tenancy.acting_as(tenant):
                verdict = await attempts.claim_for_dial(
                    pool,
                    attempt,
                    "+15550100000",
                    lines=lines_total,
                    line_pool=tag,
                    wait_ttl=wait_ttl,
                )
            if verdict == "claimed":
                run.first_start.setdefault(tenant, now)
                run.started[tenant] += 1
                lines[tenant] += 1
                run.peak_lines = max(run.peak_lines, sum(lines.values()))
                run.peak_by_tenant[tenant] = max(run.peak_by_tenant.get(tenant, 0), lines[tenant])
                duration = rnd.uniform(15, 45)  # ring, talk, hang up
                heapq.heappush(events, (now + duration, next(seq), "end", tenant, attempt))
            else:
                if not verdict.startswith("no_line:"):
                    raise RuntimeError(f"claim of {attempt} answered {verdict}")
                heapq.heappush(events, (now + RECHECK, next(seq), "claim", tenant, attempt))
        else:
            with tenancy.acting_as(tenant):
                await attempts.finish_attempt(pool, attempt, outcome="no_answer")
            lines[tenant] -= 1
            live[tenant] -= 1
            await next_contact(tenant, now)
        if all(run.started[t] == n for t, (_, n, _) in campaigns.items() if watch in (None, t)):
            break
    # Calls still up at the end hang up: they must not hold lines for the next run.
    for _, _, kind, tenant, attempt in events:
        if kind == "end":
            with tenancy.acting_as(tenant):
                await attempts.finish_attempt(pool, attempt, outcome="no_answer")
    return run
