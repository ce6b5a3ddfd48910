"""CampaignWorkflow: reads contacts page by page, runs one ContactWorkflow per contact, and
hands out dial slots under the campaign's pacing.

Contacts wait for their own calling window in their own workflow; they ask the campaign for a
slot only when they are ready to dial (``contact_update`` with ``waiting_slot``) and give it
back when the call is over. So pacing counts calls, not contacts, and a contact whose window is
closed never blocks one whose window is open. The whole state is one dataclass
(:class:`CampaignState`), carried across continue-as-new, so history stays bounded however
many contacts the campaign has.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from dsl.ir import Pacing
    from runtime.campaign import pacing as pacing_rules
    from runtime.workflows import search
    from runtime.workflows.contact import ContactWorkflow
    from runtime.workflows.messages import (
        ActivityName,
        CampaignInput,
        CampaignProgress,
        CampaignResult,
        ContactInput,
        ContactRef,
        ContactsPage,
        ContactsPageInput,
        ContactUpdate,
        LiveContact,
    )

HISTORY_LIMIT = 8_000
"""Continue as new past this many events even if the server does not suggest it yet."""


def pacing_problems(pacing: Pacing) -> list[str]:
    """Every reason ``pacing`` cannot be applied (empty when it can)."""
    problems = []
    if pacing.max_concurrent < 1:
        problems.append("max_concurrent must be at least 1")
    if pacing.per_minute is not None and pacing.per_minute < 1:
        problems.append("per_minute must be at least 1 (or unset)")
    if pacing.ramp_start is not None and not 1 <= pacing.ramp_start <= pacing.max_concurrent:
        problems.append("ramp_start must be between 1 and max_concurrent (or unset)")
    if pacing.ramp_step < 1:
        problems.append("ramp_step must be at least 1")
    if pacing.ramp_every_ms < 1000:
        problems.append("ramp_every_ms must be at least 1000")
    return problems


@workflow.defn
class CampaignWorkflow:
    @workflow.init
    def __init__(self, arg: CampaignInput) -> None:
        self._in = arg
        self._s = arg.state
        self._wake = False

    # --- messages ----------------------------------------------------------------------------

    @workflow.signal
    def pause(self) -> None:
        self._s.paused = True
        self._wake = True

    @workflow.signal
    def resume(self) -> None:
        self._s.paused = False
        self._wake = True

    @workflow.signal
    def stop(self) -> None:
        self._s.stopping = True
        self._wake = True

    @workflow.signal
    def contact_update(self, update: ContactUpdate) -> None:
        s, wid = self._s, update.workflow_id
        if update.status != "waiting_slot" and wid in s.waiting:
            s.waiting.remove(wid)
        if update.status != "dialing" and wid in s.holders:
            s.holders.remove(wid)
        if update.status == "waiting_slot" and wid not in s.waiting:
            s.waiting.append(wid)
        if update.status in ("final", "stopped"):
            if s.live.pop(wid, None) is not None:
                s.finished += 1
                if update.status == "stopped":
                    s.stopped_contacts += 1
                else:
                    key = update.outcome or "none"
                    s.outcomes[key] = s.outcomes.get(key, 0) + 1
        else:
            s.live[wid] = LiveContact(
                update.status, update.attempts, update.next_at, update.outcome
            )
        self._wake = True

    @workflow.update
    def set_pacing(self, pacing: Pacing) -> Pacing:
        self._s.pacing = pacing
        self._wake = True
        return pacing

    @set_pacing.validator
    def _validate_pacing(self, pacing: Pacing) -> None:
        problems = pacing_problems(pacing)
        if problems:
            raise ValueError("; ".join(problems))

    @workflow.query
    def progress(self) -> CampaignProgress:
        s = self._s
        live = s.live.values()
        return CampaignProgress(
            name=self._in.plan.name,
            dispatched=s.dispatched,
            finished=s.finished,
            exhausted=s.exhausted,
            paused=s.paused,
            stopping=s.stopping,
            in_call=len(s.holders),
            waiting_slot=len(s.waiting),
            scheduled=sum(1 for c in live if c.status == "scheduled"),
            outcomes=dict(s.outcomes),
            pacing=self._pacing,
            next_attempts={
                wid: c.next_at for wid, c in s.live.items() if c.status == "scheduled" and c.next_at
            },
        )

    @property
    def _pacing(self) -> Pacing:
        return self._s.pacing or self._in.plan.campaign.pacing

    # --- main loop ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, arg: CampaignInput) -> CampaignResult:
        s = self._s
        stop_sent = False
        while True:
            # Cleared before the work below: a signal that lands while it awaits wakes us again.
            self._wake = False
            if s.stopping and not stop_sent:
                await self._signal_all("stop", list(s.live))
                stop_sent = True
            if (s.exhausted or s.stopping) and not s.live:
                break
            if self._may_read_page():
                await self._dispatch_page()
                continue
            await self._grant_slots()
            if (
                workflow.info().is_continue_as_new_suggested()
                or workflow.info().get_current_history_length() > HISTORY_LIMIT
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(arg)
            wake_at = self._next_capacity()
            timeout = None if wake_at is None else max(wake_at - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(lambda: self._wake, timeout=timeout)
            except TimeoutError:
                pass
        return CampaignResult(
            self._in.plan.name, s.dispatched, s.finished, s.stopped_contacts, dict(s.outcomes)
        )

    def _may_read_page(self) -> bool:
        s = self._s
        return (
            not (s.exhausted or s.paused or s.stopping)
            and len(s.live) + self._in.page_size <= self._in.max_live
        )

    async def _dispatch_page(self) -> None:
        s, plan = self._s, self._in.plan
        page = await workflow.execute_local_activity(
            ActivityName.CONTACTS_PAGE,
            ContactsPageInput(plan.name, s.cursor, self._in.page_size),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            result_type=ContactsPage,
        )
        me = workflow.info().workflow_id
        fresh = []
        for contact in page.contacts:
            wid = search.contact_workflow_id(plan.name, contact.id)
            if wid not in s.live:
                # Live before the start: the child may report before the start resolves here.
                s.live[wid] = LiveContact("pending")
                fresh.append((wid, contact))
        # Started together: one workflow task for the page, not one per contact.
        results = await asyncio.gather(
            *(self._start_contact(wid, contact, me) for wid, contact in fresh),
            return_exceptions=True,
        )
        for (wid, _), result in zip(fresh, results, strict=True):
            if isinstance(result, WorkflowAlreadyStartedError):
                workflow.logger.warning("contact %s is already running; skipped", wid)
                del s.live[wid]
            elif isinstance(result, BaseException):
                raise result
            else:
                s.dispatched += 1
        s.cursor = page.next_cursor
        s.exhausted = page.next_cursor is None

    async def _start_contact(self, wid: str, contact: ContactRef, parent: str) -> None:
        plan = self._in.plan
        await workflow.start_child_workflow(
            ContactWorkflow.run,
            ContactInput(plan, contact, parent),
            id=wid,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(search.CAMPAIGN, plan.name),
                    SearchAttributePair(search.FLOW_HASH, plan.flow_hash),
                ]
            ),
            memo={"contact": contact.name or contact.id},
        )

    async def _grant_slots(self) -> None:
        s = self._s
        if s.paused or s.stopping or not s.waiting:
            return
        now = workflow.now()
        if s.pacing_started_at is None:
            s.pacing_started_at = now
        state = pacing_rules.PacingState(s.pacing_started_at, s.recent_grants)
        free = pacing_rules.available(self._pacing, state, len(s.holders), now)
        granted = s.waiting[:free]
        for wid in granted:
            s.waiting.remove(wid)
            s.holders.append(wid)
            pacing_rules.record_grant(state, now)
        s.recent_grants = state.recent_grants
        await self._signal_all("dial_granted", granted)

    def _next_capacity(self) -> datetime | None:
        s = self._s
        if not s.waiting or s.pacing_started_at is None or s.paused:
            return None
        state = pacing_rules.PacingState(s.pacing_started_at, list(s.recent_grants))
        return pacing_rules.next_capacity_at(self._pacing, state, workflow.now())

    async def _signal_all(self, signal: str, workflow_ids: list[str]) -> None:
        results = await asyncio.gather(
            *(workflow.get_external_workflow_handle(w).signal(signal) for w in workflow_ids),
            return_exceptions=True,
        )
        for wid, result in zip(workflow_ids, results, strict=True):
            if isinstance(result, BaseException):  # the contact ended meanwhile
                workflow.logger.info("signal %s to %s not delivered: %s", signal, wid, result)
