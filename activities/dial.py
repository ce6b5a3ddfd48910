"""The ``dial`` activity: one originate through the telephony gateway, at most once.

It runs on the task queue of the worker whose AudioSocket server will take the call, and
refuses to dial (without touching the PBX) when, by the wall clock and the database at that
moment:

* the contact's calling window is closed (``OutsideWindow``; the workflow waits and tries
  again, the attempt costs nothing), unless a test call's "call now" overrode the windows
  (``DialInput.window_override``, recorded with the attempt before this runs);
* the number is on the do-not-call list (``DoNotCall``);
* the destination policy refuses the number: a premium-rate, satellite... number, or a country
  the platform does not call (``DestinationRefused``, ``runtime/destinations.py``);
* the attempt was not recorded first (``AttemptNotRecorded``, a bug upstream);
* the attempt was already originated (``AlreadyOriginated``): the claim in the database is
  atomic, so a dial task delivered twice reaches the PBX once;
* no line is free for the tenant (``NoLineFree``): the PBX's shared lines are taken, the
  tenant's own caps are reached, or another tenant waiting with fewer lines goes first
  (``runtime/db/attempts.py``); the workflow waits a little and tries again, the attempt
  costs nothing.

The workflow gives it ``maximum_attempts=1``; it heartbeats while the PBX rings so a dead
worker is noticed within the heartbeat timeout, and its attempt is then settled as ``unknown``.
When a heartbeat learns instead that the workflow is gone (terminated while the call rang), the
activity hangs the ringing channel up and ends the attempt ``aborted``, as ``converse`` does
mid-call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contact_watch import how_gone, workflow_gone
from dsl.outcomes import BuiltinOutcome, TelephonyOutcome
from runtime.campaign.windows import is_open
from runtime.db import attempts
from runtime.db.types import Db
from runtime.destinations import DestinationPolicy
from runtime.observability import metrics, tracing
from runtime.observability.logs import call_context
from runtime.observability.tracing import call_span
from runtime.workflows.messages import ActivityName, ClosedWorkflow, DialInput, DialOutcome
from telephony.gateway import DialRequest, Gateway

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = timedelta(seconds=2)
HANGUP_WAIT_S = 5.0
"""How long an abandoned dial waits for the PBX to take its hang-up (AMI may be away)."""
NO_LINE = "NoLineFree"
MACHINES = (TelephonyOutcome.MACHINE, TelephonyOutcome.VOICEMAIL)


def _refuse(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


class DialActivities:
    def __init__(
        self,
        gateway: Gateway,
        db: Db,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        policy: DestinationPolicy | None = None,
        lines: int | None = None,
        line_pool: str = "pbx",
    ) -> None:
        self._gateway = gateway
        self._db = db
        self._clock = clock
        self._policy = policy or DestinationPolicy()
        self._lines = lines
        self._line_pool = line_pool

    @activity.defn(name=ActivityName.DIAL)
    async def dial(self, arg: DialInput) -> DialOutcome:
        with call_context(arg.attempt_id, campaign=arg.campaign, flow_hash=arg.flow_hash):
            return await self._dial(arg)

    async def _dial(self, arg: DialInput) -> DialOutcome:
        now = self._clock()
        if arg.window_override is None and not is_open(
            now, arg.timezone, arg.windows, arg.closed_dates
        ):
            raise _refuse(
                f"contact {arg.contact_id}: calling window closed at {now.isoformat()}"
                f" in {arg.timezone}",
                "OutsideWindow",
            )
        refused = self._policy.refusal(arg.phone)
        if refused is not None:
            raise _refuse(f"contact {arg.contact_id}: {refused.message}", "DestinationRefused")
        claim = await attempts.claim_for_dial(
            self._db, arg.attempt_id, arg.phone, lines=self._lines, line_pool=self._line_pool
        )
        if claim.startswith("no_line:"):
            raise _refuse(
                f"contact {arg.contact_id}: no line free ({claim.removeprefix('no_line:')});"
                " the attempt waits and claims again",
                NO_LINE,
            )
        if claim == "do_not_call":
            raise _refuse(f"contact {arg.contact_id}: {arg.phone} is on do-not-call", "DoNotCall")
        if claim == "already_originated":
            raise _refuse(
                f"attempt {arg.attempt_id} was already originated: refusing to dial again",
                "AlreadyOriginated",
            )
        if claim == "not_recorded":
            row = await attempts.get_attempt(self._db, arg.attempt_id)
            raise _refuse(
                f"attempt {arg.attempt_id} is not recorded as dialing (found"
                f" {row.status if row else 'nothing'}): refusing to originate",
                "AttemptNotRecorded",
            )
        request = DialRequest(
            attempt_id=arg.attempt_id,
            to=arg.phone,
            caller_id=arg.caller_id,
            ring_timeout_ms=arg.ring_timeout_ms,
            detect_machine=arg.detect_machine,
            hangup_machine=arg.hangup_machine,
            audiosocket=arg.audiosocket,
        )
        heartbeat = asyncio.create_task(_heartbeat())
        metrics.DIAL_ATTEMPTS.inc()
        try:
            with call_span(tracing.ORIGINATE, arg.attempt_id, campaign=arg.campaign) as span:
                result = await self._gateway.place_call(request)
                span.set_attribute(tracing.OUTCOME, _label(result.answered, result.outcome))
        except asyncio.CancelledError:
            if workflow_gone():
                await self._abandon(arg)
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        metrics.ORIGINATES.labels(_label(result.answered, result.outcome)).inc()
        log.info("call %s: originate %s", arg.attempt_id, _label(result.answered, result.outcome))
        # Stored before anything else can fail: a workflow that loses this activity's result
        # reads the PBX's answer back (``recover_attempt``).
        await attempts.record_dial_result(
            self._db,
            arg.attempt_id,
            answered=result.answered,
            outcome=result.outcome.value if result.outcome else None,
        )
        if result.answered:
            await attempts.mark_answered(self._db, arg.attempt_id)
            if result.outcome in MACHINES and arg.hangup_machine:
                await self._gateway.hangup(arg.attempt_id)
        return DialOutcome(
            attempt_id=arg.attempt_id,
            answered=result.answered,
            outcome=result.outcome.value if result.outcome else None,
            cause=result.cause,
            detail=result.detail,
        )

    async def _abandon(self, arg: DialInput) -> None:
        """The workflow went away while the call rang: nothing will act on this dial, and for
        a test call nothing else ends its attempt before the worker's sweep of held lines
        (``runtime/held_lines.py``), minutes later. Hang the ringing channel up, then end the
        attempt ``aborted`` with how the workflow went, freeing its line (and, for a
        campaign's contact, settle the contact as the campaign would; the first to come
        wins). A failure is logged: the sweep ends the attempt then."""
        try:
            await asyncio.wait_for(self._gateway.hangup(arg.attempt_id), HANGUP_WAIT_S)
        except Exception as exc:  # the PBX's own ring timeout ends the channel then
            log.warning("call %s: ringing channel not hung up: %s", arg.attempt_id, exc)
        gone = await how_gone("while the call rang")
        why = gone.detail if isinstance(gone, ClosedWorkflow) else gone
        try:
            await attempts.end_abandoned(
                self._db,
                arg.attempt_id,
                arg.campaign,
                arg.contact_id,
                closed_outcome=gone.outcome if isinstance(gone, ClosedWorkflow) else None,
                detail=why,
            )
        except Exception as exc:  # the sweep of held lines ends it later
            log.warning("call %s: aborted attempt not stored: %s", arg.attempt_id, exc)
        log.info("call %s: dial abandoned: %s", arg.attempt_id, why)


def _label(answered: bool, outcome: TelephonyOutcome | BuiltinOutcome | None) -> str:
    """An originate's outcome as a metric label: ``answered`` by a person, else the PBX's."""
    if outcome is not None:
        return outcome.value
    return "answered" if answered else TelephonyOutcome.UNKNOWN.value


async def _heartbeat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())
