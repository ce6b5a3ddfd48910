"""CampaignWorkflow: reads contacts page by page, runs one ContactWorkflow per contact, and
hands out dial slots under the campaign's pacing.

Pacing counts calls, not contacts. A contact whose window is open when it is read starts with
a dial slot reserved in its input, as soon as pacing has room (until then it waits in the
campaign's queue): its first attempt costs no slot request. A contact whose window is closed
starts at once and waits in its own workflow; it, and any retry, asks for a slot when ready
(``contact_update`` with ``waiting_slot``). Any later report (scheduled, waiting_slot, final,
stopped) gives the slot back, and so does the contact workflow closing: the campaign watches
the children it started, so one terminated or failed while holding a slot frees it. Contacts
an earlier run started (before it continued as new) are not its children: it asks Temporal
how they stand every ``closed_check_every`` and settles those that closed without reporting.
The whole state is one dataclass (:class:`CampaignState`), carried across continue-as-new, so
history stays bounded however many contacts the campaign has.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import exceptions as temporal_errors
from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from dsl.ir import Pacing
    from runtime.campaign import pacing as pacing_rules
    from runtime.campaign import windows
    from runtime.workflows import search
    from runtime.workflows.contact import IO_RETRY, IO_TIMEOUT, ContactWorkflow
    from runtime.workflows.messages import (
        ActivityName,
        CampaignInput,
        CampaignProgress,
        CampaignResult,
        ClosedContact,
        ClosedOutcome,
        ContactInput,
        ContactRef,
        ContactResult,
        ContactsPage,
        ContactsPageInput,
        ContactUpdate,
        HandedOverCheck,
        HandedOverStatus,
        LiveContact,
        QueryName,
        SignalName,
    )


SETTLE_CLOSED_CONTACTS = "settle-closed-contacts"
"""Patch: a contact whose workflow closed without reporting has its row settled too."""
CHECK_HANDED_OVER = "check-handed-over-contacts"
"""Patch: a run looks for contacts handed over by an earlier run that closed without
reporting (``_check_handed_over``)."""
SETTLE_UNSEEN = "settle-unseen-closes"
"""Patch: a child whose close the hand-over wait did not see settle is asked about and settled
as it ended, row and all (it was counted ``workflow_gone`` with its row left open)."""
HANDED_OVER_BATCH = 200
"""Contact workflows described per activity (``describe_contacts``)."""


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
        self._children: dict[str, asyncio.Task[None]] = {}
        """Contacts this run started, watched until their workflow closes (not carried across
        continue-as-new: those report by signal)."""
        self._handed_over = set(arg.state.live)
        """Contacts an earlier run started, still live: this run cannot see them close."""
        self._checker: asyncio.Task[None] | None = None

    # --- messages ----------------------------------------------------------------------------

    @workflow.signal(name=SignalName.PAUSE)
    def pause(self) -> None:
        self._s.paused = True
        self._wake = True

    @workflow.signal(name=SignalName.RESUME)
    def resume(self) -> None:
        self._s.paused = False
        self._wake = True

    @workflow.signal(name=SignalName.STOP)
    def stop(self) -> None:
        self._s.stopping = True
        self._wake = True

    @workflow.signal(name=SignalName.CONTACT_UPDATE)
    def contact_update(self, update: ContactUpdate) -> None:
        s, wid = self._s, update.workflow_id
        if update.status in ("final", "stopped"):
            self._settle(wid, update.outcome, stopped=update.status == "stopped")
            return
        if update.status != "waiting_slot" and wid in s.waiting:
            s.waiting.remove(wid)
        if update.status != "dialing" and wid in s.holders:
            s.holders.remove(wid)
        if update.status == "waiting_slot" and wid not in s.waiting:
            s.waiting.append(wid)
        if wid in s.live:  # a late report of a contact already settled changes nothing
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

    @workflow.query(name=QueryName.PROGRESS)
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
            waiting_slot=len(s.waiting) + len(s.queued),
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
        if self._handed_over and workflow.patched(CHECK_HANDED_OVER):
            self._checker = asyncio.create_task(self._check_handed_over())
        while True:
            # Cleared before the work below: a signal that lands while it awaits wakes us again.
            self._wake = False
            if s.stopping and not stop_sent:
                await self._signal_all(SignalName.STOP, list(s.live))
                stop_sent = True
            if not s.live and (s.stopping or (s.exhausted and not s.queued)):
                break
            if self._may_read_page():
                await self._read_page()
            await self._grant_slots()
            if (
                workflow.info().is_continue_as_new_suggested()
                or workflow.info().get_current_history_length() > arg.history_limit
            ):
                await self._hand_over_children()
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(arg)
            if self._may_read_page():
                continue
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
            and len(s.live) + len(s.queued) + self._in.page_size <= self._in.max_live
        )

    async def _read_page(self) -> None:
        """Read the next page: contacts whose window is open queue for a reserved slot, the
        others start at once and wait for their window in their own workflow."""
        s, plan = self._s, self._in.plan
        page = await workflow.execute_local_activity(
            ActivityName.CONTACTS_PAGE,
            ContactsPageInput(plan.name, s.cursor, self._in.page_size),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            result_type=ContactsPage,
        )
        known = {search.contact_workflow_id(plan.name, c.id, plan.tenant) for c in s.queued}
        closed = []
        for contact in page.contacts:
            wid = search.contact_workflow_id(plan.name, contact.id, plan.tenant)
            if wid in s.live or wid in known:
                continue
            known.add(wid)
            if self._window_open(contact):
                s.queued.append(contact)
            else:
                closed.append(contact)
        s.cursor = page.next_cursor
        s.exhausted = page.next_cursor is None
        await self._start_contacts(closed, granted=[])

    def _window_open(self, contact: ContactRef) -> bool:
        plan = self._in.plan
        tz = contact.timezone or plan.default_timezone
        return windows.is_open(workflow.now(), tz, plan.campaign.windows, plan.closed_dates)

    async def _grant_slots(self) -> None:
        """Hand out the slots pacing allows now: first to contacts asking (in order of asking),
        then to queued contacts, which start with the slot in their input."""
        s = self._s
        if s.paused or s.stopping or not (s.waiting or s.queued):
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
        free -= len(granted)
        with_slot: list[ContactRef] = []
        without: list[ContactRef] = []
        while s.queued and (free > 0 or not self._window_open(s.queued[0])):
            contact = s.queued.pop(0)
            if self._window_open(contact):
                with_slot.append(contact)
                free -= 1
                pacing_rules.record_grant(state, now)
            else:  # closed while it queued: it waits for the next one in its own workflow
                without.append(contact)
        s.recent_grants = state.recent_grants
        undelivered, _ = await asyncio.gather(
            self._signal_all(SignalName.DIAL_GRANTED, granted),
            self._start_contacts(without + with_slot, granted=with_slot),
        )
        gone = [wid for wid in undelivered if wid in self._handed_over]
        if gone and self._checker is not None:
            await self._settle_if_closed(gone)
            # Not closed after all (the signal failed otherwise): it asks again.
            s.waiting.extend(wid for wid in gone if wid in s.live and wid not in s.waiting)

    async def _start_contacts(self, contacts: list[ContactRef], granted: list[ContactRef]) -> None:
        """Start one contact workflow each, together (one workflow task, not one per contact);
        those in ``granted`` hold a dial slot from now on."""
        if not contacts:
            return
        s, plan = self._s, self._in.plan
        me = workflow.info().workflow_id
        reserved = {c.id for c in granted}
        wids = [search.contact_workflow_id(plan.name, c.id, plan.tenant) for c in contacts]
        for wid, contact in zip(wids, contacts, strict=True):
            # Live before the start: the child may report before the start resolves here.
            if contact.id in reserved:
                s.live[wid] = LiveContact("dialing")
                s.holders.append(wid)
            else:
                s.live[wid] = LiveContact("pending")
        results = await asyncio.gather(
            *(
                self._start_contact(wid, c, me, c.id in reserved)
                for wid, c in zip(wids, contacts, strict=True)
            ),
            return_exceptions=True,
        )
        for wid, contact, result in zip(wids, contacts, results, strict=True):
            if isinstance(result, WorkflowAlreadyStartedError):
                workflow.logger.warning("contact %s is already running; skipped", wid)
                self._free(wid)
                del s.live[wid]
            elif isinstance(result, BaseException):
                raise result
            else:
                s.dispatched += 1
                self._children[wid] = asyncio.create_task(self._watch(wid, contact.id, result))

    async def _start_contact(
        self, wid: str, contact: ContactRef, parent: str, granted: bool
    ) -> workflow.ChildWorkflowHandle:
        plan = self._in.plan
        return await workflow.start_child_workflow(
            ContactWorkflow.run,
            ContactInput(plan, contact, parent, granted),
            id=wid,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(search.CAMPAIGN, plan.name),
                    SearchAttributePair(search.FLOW_HASH, plan.flow_hash),
                    SearchAttributePair(search.TENANT, plan.tenant),
                ]
            ),
            memo={"contact": contact.name or contact.id},
        )

    async def _watch(self, wid: str, contact_id: str, handle: workflow.ChildWorkflowHandle) -> None:
        """Settle the contact when its workflow closes, whether or not it reported: one
        terminated, failed or timed out never says ``final`` and would keep its slot, and
        its row in PostgreSQL would stay open (the campaign's row never ``finished``)."""
        try:
            result: ContactResult = await handle
        except ChildWorkflowError as err:
            workflow.logger.warning("contact %s closed without reporting: %s", wid, err.cause)
            outcome = _closed_without_report(err)
            if workflow.patched(SETTLE_CLOSED_CONTACTS):
                await self._settle_closed(wid, contact_id, outcome, str(err.cause or err))
            else:
                self._settle(wid, outcome, stopped=False)
        else:
            self._settle(wid, result.outcome, stopped=result.status == "stopped")
        finally:
            self._children.pop(wid, None)

    async def _settle_closed(self, wid: str, contact_id: str, outcome: str, detail: str) -> None:
        """Settle a contact whose workflow closed without reporting, and its row (its attempt
        too, if it closed mid-call)."""
        # The row before the count: once the last contact settles the run may end, and a
        # local activity still pending then would never run.
        await workflow.execute_local_activity(
            ActivityName.SETTLE_CLOSED,
            ClosedContact(self._in.plan.name, contact_id, outcome, detail),
            start_to_close_timeout=IO_TIMEOUT,
            retry_policy=IO_RETRY,
        )
        self._settle(wid, outcome, stopped=False)

    async def _check_handed_over(self) -> None:
        """Every ``closed_check_every`` while this run holds contacts an earlier run started,
        settle those whose workflow closed without reporting (terminated while it slept, say).

        Temporal does not carry child workflows across continue-as-new, so nothing tells
        this run that one of them closed; one that completed reported by signal first."""
        while True:
            try:
                await workflow.wait_condition(
                    lambda: not self._handed_over, timeout=self._in.closed_check_every
                )
                return  # each one settled: nothing left to look after
            except TimeoutError:
                pass
            # In the order of ``live``, not of the set: the same on every replay.
            await self._settle_if_closed([w for w in self._s.live if w in self._handed_over])

    async def _settle_if_closed(self, workflow_ids: list[str]) -> None:
        """Ask Temporal how these contacts (started by an earlier run, or whose close this
        run missed) stand, and settle those whose workflow closed: without reporting, row and
        all; completed, from its result."""
        plan, s = self._in.plan, self._s
        for start in range(0, len(workflow_ids), HANDED_OVER_BATCH):
            found = await workflow.execute_local_activity(
                ActivityName.DESCRIBE_CONTACTS,
                HandedOverCheck(workflow_ids[start : start + HANDED_OVER_BATCH]),
                start_to_close_timeout=IO_TIMEOUT,
                retry_policy=IO_RETRY,
                result_type=HandedOverStatus,
            )
            for done in found.completed:  # its close missed (``_settle_unseen``)
                self._settle(done.workflow_id, done.outcome, stopped=done.status == "stopped")
            for closed in found.closed:
                if closed.workflow_id not in s.live:  # settled while we asked
                    continue
                workflow.logger.warning(
                    "contact %s, not watched, closed without reporting: %s",
                    closed.workflow_id,
                    closed.detail,
                )
                contact_id = search.contact_id_of(plan.name, closed.workflow_id, plan.tenant)
                await self._settle_closed(
                    closed.workflow_id, contact_id, closed.outcome, closed.detail
                )

    async def _hand_over_children(self) -> None:
        """Before continuing as new: the next run cannot watch this run's children, so each
        one still running is told to report its end by signal from now on."""
        undelivered = await self._signal_all(SignalName.CAMPAIGN_CONTINUED, list(self._children))
        # Those already closed: their close reaches this run's history; settle them here, or
        # the next run would wait for them forever.
        try:
            await workflow.wait_condition(
                lambda: not any(w in self._children for w in undelivered),
                timeout=self._in.hand_over_wait,
            )
        except TimeoutError:
            unseen = [w for w in undelivered if w in self._children]
            if workflow.patched(SETTLE_UNSEEN):
                await self._settle_unseen(unseen)
            else:
                for wid in unseen:
                    self._settle(wid, ClosedOutcome.GONE, stopped=False)

    async def _settle_unseen(self, workflow_ids: list[str]) -> None:
        """Settle children whose close this run did not see settle in time: their watch waits
        on PostgreSQL (a ``settle_closed_contact`` retrying through an outage, abandoned when
        the run continues as new), or the close is late. Temporal says how each ended: one
        that closed without reporting is settled row and all (its open attempt and call
        too), one that completed from its result. One still running (the signal failed for
        another reason) stays live, and the next run asks about it every
        ``closed_check_every`` until it ends."""
        await self._settle_if_closed(workflow_ids)

    def _settle(self, wid: str, outcome: str | None, *, stopped: bool) -> None:
        """The contact is done (once, whichever of its report and its closing comes first)."""
        s = self._s
        self._free(wid)
        self._handed_over.discard(wid)
        if s.live.pop(wid, None) is None:
            return
        s.finished += 1
        if stopped:
            s.stopped_contacts += 1
        else:
            key = outcome or "none"
            s.outcomes[key] = s.outcomes.get(key, 0) + 1
        self._wake = True

    def _free(self, wid: str) -> None:
        s = self._s
        if wid in s.waiting:
            s.waiting.remove(wid)
        if wid in s.holders:
            s.holders.remove(wid)

    def _next_capacity(self) -> datetime | None:
        s = self._s
        if not (s.waiting or s.queued) or s.pacing_started_at is None or s.paused:
            return None
        state = pacing_rules.PacingState(s.pacing_started_at, list(s.recent_grants))
        return pacing_rules.next_capacity_at(self._pacing, state, workflow.now())

    async def _signal_all(self, signal: str, workflow_ids: list[str]) -> list[str]:
        """Signal each contact; answers those not delivered to (their workflow has closed)."""
        results = await asyncio.gather(
            *(workflow.get_external_workflow_handle(w).signal(signal) for w in workflow_ids),
            return_exceptions=True,
        )
        undelivered = []
        for wid, result in zip(workflow_ids, results, strict=True):
            if isinstance(result, BaseException):
                workflow.logger.info("signal %s to %s not delivered: %s", signal, wid, result)
                undelivered.append(wid)
                if signal == SignalName.DIAL_GRANTED and wid not in self._children:
                    # Started by an earlier run and closed without reporting: nothing else
                    # will free its slot. (This run's children are settled by their watch.)
                    if self._checker is not None:  # its row too: ``_grant_slots`` asks how
                        self._free(wid)
                    else:
                        self._settle(wid, ClosedOutcome.GONE, stopped=False)
        return undelivered


def _closed_without_report(err: ChildWorkflowError) -> str:
    cause = err.cause
    if isinstance(cause, temporal_errors.TerminatedError):
        return ClosedOutcome.TERMINATED
    if isinstance(cause, temporal_errors.TimeoutError):
        return ClosedOutcome.TIMED_OUT
    if isinstance(cause, temporal_errors.CancelledError):
        return ClosedOutcome.CANCELLED
    return ClosedOutcome.FAILED
