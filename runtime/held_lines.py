"""PBX lines held by attempts whose workflow is gone: found and released.

An originated attempt holds a line of its PBX until it ends (``voxflow_claim_line``, migration
``0200_tenants.sql``). Its contact workflow ends it; when that workflow closes mid-call, the
campaign watching it settles it (``attempts.settle_closed_contact``), or else the worker
running the call does when its heartbeat learns the workflow is gone (``activities/converse.py``;
``activities/dial.py`` while the phone still rings). A test call has no campaign, and a worker
can die with its calls: then nothing would end the attempt, and its line would be lost for good.
Each worker therefore looks, when it starts and every ``SWEEP_EVERY``, at the attempts holding a
line of its PBX, asks Temporal how the workflow of each one stands, and settles those whose
workflow closed as the campaign would: attempt and call ``aborted``, contact ``final`` with how
the workflow closed. Only attempts originated ``GRACE`` ago or more are looked at, a few
describes each; nothing runs per dial.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

import asyncpg
from temporalio.client import Client

from activities.contact_watch import how_it_ended
from runtime import tenancy
from runtime.db import attempts
from runtime.workflows import search
from runtime.workflows.messages import ClosedOutcome, ClosedWorkflow, CompletedWorkflow

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(minutes=5)
GRACE = timedelta(minutes=1)
"""An attempt younger than this is left alone: its workflow is surely still there."""


async def release_closed_lines(
    client: Client, pool: asyncpg.Pool, line_pool: str | None, *, grace: timedelta = GRACE
) -> list[str]:
    """Settle the attempts holding a line of ``line_pool`` (every PBX when ``None``) whose
    workflow closed, or that Temporal no longer knows; the ids of those settled."""
    with tenancy.acting_as(tenancy.PLATFORM):
        holders = await attempts.line_holders(pool, line_pool, grace)
    released = []
    for attempt_id, campaign, contact, tenant in holders:
        ended = await _how_it_ended(client, campaign, contact, tenant)
        if ended is None:
            continue
        with tenancy.acting_as(tenant):
            closed = isinstance(ended, ClosedWorkflow)
            detail = (
                f"its workflow closed mid-call ({ended.detail})"
                if closed
                else f"its workflow completed ({ended.status}) without ending it"
            )
            await attempts.end_abandoned(
                pool,
                attempt_id,
                campaign,
                contact,
                closed_outcome=ended.outcome if closed else None,
                detail=detail,
            )
        log.warning("attempt %s released its line: %s", attempt_id, detail)
        released.append(attempt_id)
    return released


def workflow_ids(campaign: str, contact: str, tenant: str) -> tuple[str, str]:
    """The workflow an attempt of ``campaign`` belongs to: a campaign's contact workflow, or a
    test call's (whose ``campaign`` is the test call's id)."""
    return (
        search.contact_workflow_id(campaign, contact, tenant),
        search.test_call_workflow_id(campaign, tenant),
    )


async def _how_it_ended(
    client: Client, campaign: str, contact: str, tenant: str
) -> ClosedWorkflow | CompletedWorkflow | None:
    """How the attempt's workflow ended; ``None`` while it runs. The two workflow ids it may
    have cannot both exist (their prefixes differ), so the one Temporal knows says."""
    known: list[ClosedWorkflow | CompletedWorkflow] = []
    for workflow_id in workflow_ids(campaign, contact, tenant):
        ended = await how_it_ended(client, workflow_id)
        if ended is None:
            return None
        if not (isinstance(ended, ClosedWorkflow) and ended.outcome == ClosedOutcome.GONE):
            known.append(ended)
    if known:
        return known[0]
    return ClosedWorkflow(
        workflow_ids(campaign, contact, tenant)[0],
        ClosedOutcome.GONE,
        "Temporal knows neither its campaign contact nor its test call workflow",
    )


@asynccontextmanager
async def releasing_lines(
    client: Client,
    pool: asyncpg.Pool,
    line_pool: str | None,
    *,
    every: timedelta = SWEEP_EVERY,
    grace: timedelta = GRACE,
) -> AsyncIterator[None]:
    """Release lines held by closed workflows now and ``every`` while in the block."""

    async def sweep() -> None:
        while True:
            try:
                await release_closed_lines(client, pool, line_pool, grace=grace)
            except Exception as exc:  # Temporal or PostgreSQL away: the next sweep tries again
                log.warning("held lines not checked: %s", exc)
            await asyncio.sleep(every.total_seconds())

    task = asyncio.create_task(sweep(), name="release-closed-lines")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
