"""``AsteriskGateway``: the gateway interface (``telephony.gateway``) over AMI.

Dialling: ``Originate`` with ``Async: true``, ``ChannelId`` = attempt id (so the channel's
``Uniqueid`` is known before any event) and the channel variables the dialplan in
``telephony/asterisk/extensions.conf`` reads:

* ``VOXFLOW_ATTEMPT``   -- the attempt id, used as the AudioSocket UUID;
* ``VOXFLOW_AUDIOSOCKET`` -- ``host:port`` of the AudioSocket server that must take the call
  (the worker that will run the conversation);
* ``VOXFLOW_AMD``       -- ``1`` to run answering-machine detection first, ``0`` to skip it;
* ``VOXFLOW_AMD_HANGUP`` -- ``1`` when machines are to be hung up: the dialplan does it right
  after ``AMD()``, so their calls never reach ``AudioSocket()``.

Events (``Newstate``, ``VarSet`` ``AMDSTATUS``/``AMDCAUSE``, ``DTMFEnd``, ``Hangup``) are
matched to the attempt by ``Uniqueid`` and turned into :class:`~telephony.gateway.CallEvent`.

Inbound calls: the ``[voxflow-inbound]`` context sets ``VOXFLOW_ATTEMPT=${UUID()}`` before
``AudioSocket()``; its ``VarSet`` event carries the channel snapshot (``CallerIDNum``, the dialled
``Exten``, ``Channel``, Asterisk's own ``Uniqueid``), which is all AudioSocket itself does not
say. :meth:`AsteriskGateway.inbound_channel` maps the AudioSocket UUID to that channel and makes
the call controllable (hang-up, transfer, DTMF) under its UUID like an outbound attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from opentelemetry import trace
from panoramisk.message import Message

from dsl.outcomes import BuiltinOutcome, TelephonyOutcome
from telephony.ami.client import AmiClient, AmiConnectionLost, AmiSettings
from telephony.ami.outcomes import (
    outcome_for_amd,
    outcome_for_cause,
    outcome_for_originate,
    outcome_for_reason,
)
from telephony.gateway import ATTEMPT_ATTRIBUTE, CallEvent, DialRequest, DialResult

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("voxflow.telephony")

VAR_ATTEMPT = "VOXFLOW_ATTEMPT"
VAR_AUDIOSOCKET = "VOXFLOW_AUDIOSOCKET"
VAR_AMD = "VOXFLOW_AMD"
VAR_AMD_HANGUP = "VOXFLOW_AMD_HANGUP"
OUTBOUND_CONTEXT = "voxflow-outbound"
TRANSFER_CONTEXT = "voxflow-transfer"
INBOUND_CONTEXT = "voxflow-inbound"
CHANNEL_TEMPLATE = "PJSIP/{number}@voxflow-trunk"
UNKNOWN_CALLER = "unknown"


@dataclass(frozen=True)
class InboundChannel:
    """What the PBX said about an inbound call whose AudioSocket UUID is ``call_id``."""

    call_id: str
    caller: str
    """``CallerIDNum``, or ``unknown`` when the trunk gave none."""
    did: str
    """The dialled number (``Exten`` in the inbound context)."""
    channel: str
    uniqueid: str
    """Asterisk's ``Uniqueid`` of the channel (not the AudioSocket UUID)."""
    caller_name: str = ""


RETAIN_S = 300.0
"""A hung-up call's events stay readable this long, then the gateway forgets the call."""
CAUSE_WAIT_S = 1.0
"""How long a failed originate (``Reason`` 0 or 1) waits for its channel's hang-up cause.

On PJSIP the cause is the only thing that tells busy from rejected from unallocated, and its
``HangupRequest``/``Hangup`` events may follow the OriginateResponse (observed 0.05-0.22 ms
later on Asterisk 22.10.1); a second is far more than the events need, and bounds the wait
when an Asterisk sends none (a channel that was never created)."""


@dataclass
class _Call:
    attempt_id: str
    channel: str | None = None
    answered: bool = False
    rang: bool = False
    hung_up: bool = False
    cause: int | None = None
    cause_seen: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by the first ``HangupRequest``/``Hangup`` that carries a non-zero cause, or by the
    ``Hangup`` itself (whose cause may be 0 on Local channels)."""
    amd_status: str = ""
    amd_cause: str = ""
    amd_done: asyncio.Event = field(default_factory=asyncio.Event)
    events: asyncio.Queue[CallEvent] = field(default_factory=asyncio.Queue)
    readers: int = 0
    """``events()`` iterators open on this call; a hung-up call nobody reads is dropped."""


class AsteriskGateway:
    """Place and control calls on an Asterisk (or the simulated PBX) over AMI.

    Args:
        client: a started :class:`AmiClient` (or use :meth:`connect`).
        audiosocket: ``host:port`` of this worker's AudioSocket server (default for
            ``VOXFLOW_AUDIOSOCKET``; a request's ``audiosocket`` field overrides it).
        channel_template: dial string, ``{number}`` is the E.164 number.
        amd_wait: seconds to wait after answer for ``AMDSTATUS`` (AMD's own analysis
            time is 5 s by default).
        retain_s: how long a hung-up call's events stay readable by ``events()``.
        cause_wait: seconds a failed originate waits for its channel's hang-up cause.
    """

    def __init__(
        self,
        client: AmiClient,
        audiosocket: str,
        *,
        channel_template: str = CHANNEL_TEMPLATE,
        context: str = OUTBOUND_CONTEXT,
        transfer_context: str = TRANSFER_CONTEXT,
        amd_wait: float = 8.0,
        retain_s: float = RETAIN_S,
        cause_wait: float = CAUSE_WAIT_S,
    ) -> None:
        self.client = client
        self.audiosocket = audiosocket
        self.channel_template = channel_template
        self.context = context
        self.transfer_context = transfer_context
        self.amd_wait = amd_wait
        self.retain_s = retain_s
        self.cause_wait = cause_wait
        self._calls: dict[str, _Call] = {}
        self._inbound: dict[str, InboundChannel] = {}
        """Inbound channels seen in ``VarSet VOXFLOW_ATTEMPT``, by AudioSocket UUID."""
        self._inbound_ids: dict[str, str] = {}
        """AudioSocket UUID of each inbound channel, by Asterisk ``Uniqueid``."""
        self._inbound_waiters: dict[str, asyncio.Future[InboundChannel]] = {}
        client.add_listener(self._on_event)
        client.add_disconnect_listener(self._disconnected)

    @classmethod
    async def connect(
        cls, settings: AmiSettings, audiosocket: str, **kwargs: object
    ) -> AsteriskGateway:
        client = AmiClient(settings)
        await client.start()
        return cls(client, audiosocket, **kwargs)  # type: ignore[arg-type]

    # ---- Gateway protocol -------------------------------------------------------------

    async def place_call(self, request: DialRequest) -> DialResult:
        attempt_id = request.attempt_id
        call = self._calls[attempt_id] = _Call(attempt_id)
        variables = {
            VAR_ATTEMPT: attempt_id,
            VAR_AUDIOSOCKET: request.audiosocket or self.audiosocket,
            VAR_AMD: "1" if request.detect_machine else "0",
            VAR_AMD_HANGUP: "1" if request.hangup_machine else "0",
            **request.variables,
        }
        action: dict[str, object] = {
            "Action": "Originate",
            "Channel": self.channel_template.format(number=request.to),
            "Context": self.context,
            "Exten": "s",
            "Priority": "1",
            "Timeout": str(request.ring_timeout_ms),
            "Async": "true",
            "ChannelId": attempt_id,
            "Variable": [f"{k}={v}" for k, v in variables.items()],
        }
        if request.caller_id:
            action["CallerID"] = request.caller_id
        try:
            reply = await asyncio.wait_for(
                self.client.send(action), request.ring_timeout_ms / 1000 + 30
            )
        except asyncio.CancelledError:
            # Given up while it rang: the caller may still hang it up (``hangup``), and its
            # record is forgotten after ``retain_s`` like any other.
            self._retain(call)
            raise
        except (AmiConnectionLost, TimeoutError) as exc:
            # Sent but no result: the call may be ringing. Never re-dial here (at most once).
            self._finish(call)
            return DialResult(
                attempt_id,
                False,
                TelephonyOutcome.UNKNOWN,
                detail=f"originate result unknown: {exc}",
            )
        messages = reply if isinstance(reply, list) else [reply]
        if not messages[0].success:
            self._finish(call)
            return DialResult(
                attempt_id,
                False,
                TelephonyOutcome.FAILED,
                detail=f"originate refused: {messages[0].get('Message', '')}",
            )
        result = next((m for m in messages if m.get("Event") == "OriginateResponse"), None)
        if result is None:
            self._finish(call)
            return DialResult(
                attempt_id, False, TelephonyOutcome.UNKNOWN, detail="no OriginateResponse"
            )
        call.channel = result.get("Channel") or call.channel
        reason = result.get("Reason")
        if outcome_for_reason(reason) is None:
            return await self._answered(call, request)
        if not call.cause_seen.is_set():
            # PJSIP says Reason 0 for every failure; the cause follows on its own events.
            try:
                await asyncio.wait_for(call.cause_seen.wait(), self.cause_wait)
            except TimeoutError:
                log.info(
                    "call %s: Reason %s and no hang-up cause within %g s",
                    attempt_id,
                    reason,
                    self.cause_wait,
                )
        outcome = outcome_for_originate(reason, call.cause)
        self._push(call, CallEvent(attempt_id, "hangup", cause=call.cause, outcome=outcome))
        self._finish(call)
        return DialResult(
            attempt_id,
            False,
            outcome,
            channel=call.channel,
            cause=call.cause,
            detail=f"Reason {reason}" + (f" cause {call.cause}" if call.cause is not None else ""),
        )

    async def _answered(self, call: _Call, request: DialRequest) -> DialResult:
        if not call.answered:
            call.answered = True
            self._push(call, CallEvent(call.attempt_id, "answered"))
        outcome: TelephonyOutcome | BuiltinOutcome | None = None
        detail = "answered"
        if request.detect_machine:
            # A span of the current trace (the dial activity's originate), when tracing is on.
            with _tracer.start_as_current_span(
                "voxflow.amd", attributes={ATTEMPT_ATTRIBUTE: call.attempt_id}
            ) as span:
                try:
                    await asyncio.wait_for(call.amd_done.wait(), self.amd_wait)
                except TimeoutError:
                    detail = "answered; no AMDSTATUS in time"
                else:
                    outcome = outcome_for_amd(call.amd_status, call.amd_cause)
                    detail = f"AMDSTATUS={call.amd_status} AMDCAUSE={call.amd_cause}"
                span.set_attribute("voxflow.amd_status", call.amd_status or "none")
        if outcome is None and call.hung_up:
            # AMDSTATUS=HANGUP, or a Hangup before AMD said anything: nobody is on the line.
            outcome = BuiltinOutcome.HUNG_UP
            detail += f"; hung up (cause {call.cause})"
        return DialResult(call.attempt_id, True, outcome, channel=call.channel, detail=detail)

    async def events(self, attempt_id: str) -> AsyncIterator[CallEvent]:
        call = self._calls.get(attempt_id)
        if call is None:
            return
        call.readers += 1
        try:
            while True:
                event = await call.events.get()
                yield event
                if event.kind == "hangup":
                    return
        finally:
            call.readers -= 1
            if call.hung_up and not call.readers:
                self._calls.pop(attempt_id, None)

    async def hangup(self, attempt_id: str) -> None:
        """Hang the call up, answered or still ringing (its ``place_call`` given up)."""
        call = self._calls.get(attempt_id)
        if call is None:
            raise LookupError(f"call {attempt_id}: no channel known for this attempt")
        if call.hung_up:
            return
        # A ringing call may not have named its channel yet; Asterisk's Hangup finds a
        # channel by its Uniqueid too, which the originate set to the attempt id (ChannelId).
        channel = call.channel or attempt_id
        await self.client.send({"Action": "Hangup", "Channel": channel, "Cause": "16"})

    async def transfer(self, attempt_id: str, to: str) -> None:
        call = self._require(attempt_id)
        reply = await self.client.send(
            {
                "Action": "Redirect",
                "Channel": call.channel,
                "Context": self.transfer_context,
                "Exten": to,
                "Priority": "1",
            }
        )
        if isinstance(reply, Message) and not reply.success:
            raise RuntimeError(
                f"call {attempt_id}: transfer to {to} refused: {reply.get('Message', '')}"
            )

    async def send_dtmf(self, attempt_id: str, digits: str) -> None:
        """Play DTMF digits to the callee (one ``PlayDTMF`` per digit)."""
        call = self._require(attempt_id)
        for digit in digits:
            await self.client.send({"Action": "PlayDTMF", "Channel": call.channel, "Digit": digit})

    async def close(self) -> None:
        await self.client.close()

    # ---- inbound calls ------------------------------------------------------------------

    async def inbound_channel(self, call_id: str, timeout: float) -> InboundChannel | None:  # noqa: ASYNC109
        """The channel of the inbound call whose AudioSocket UUID is ``call_id``.

        Waits up to ``timeout`` seconds for the dialplan's ``VarSet`` (AMI events and the
        AudioSocket connection travel on different sockets, either may come first). Once found,
        the call answers to :meth:`hangup`, :meth:`transfer`, :meth:`send_dtmf` and
        :meth:`events` under ``call_id``. ``None`` when the PBX never said (a dialplan that
        does not set ``VOXFLOW_ATTEMPT``, AMI down).
        """
        found = self._inbound.get(call_id)
        if found is None:
            future = self._inbound_waiters.get(call_id)
            if future is None or future.done():
                future = self._inbound_waiters[call_id] = asyncio.get_running_loop().create_future()
            try:
                found = await asyncio.wait_for(asyncio.shield(future), timeout)
            except TimeoutError:
                return None
            finally:
                if self._inbound_waiters.get(call_id) is future:
                    del self._inbound_waiters[call_id]
        if call_id not in self._calls:
            self._calls[call_id] = _Call(call_id, channel=found.channel, answered=True, rang=True)
        return found

    def _inbound_varset(self, message: Message) -> None:
        call_id, uniqueid = message.get("Value", ""), message.get("Uniqueid", "")
        # An originated channel carries VOXFLOW_ATTEMPT too, with ChannelId = Uniqueid = attempt.
        if not call_id or not uniqueid or call_id == uniqueid or call_id in self._calls:
            return
        caller = message.get("CallerIDNum", "")
        channel = InboundChannel(
            call_id=call_id,
            caller=UNKNOWN_CALLER if caller in ("", "<unknown>") else caller,
            did=message.get("Exten", ""),
            channel=message.get("Channel", ""),
            uniqueid=uniqueid,
            caller_name=message.get("CallerIDName", "").replace("<unknown>", ""),
        )
        self._inbound[call_id] = channel
        self._inbound_ids[uniqueid] = call_id
        waiter = self._inbound_waiters.get(call_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(channel)

    def _inbound_gone(self, uniqueid: str) -> None:
        call_id = self._inbound_ids.pop(uniqueid, None)
        if call_id is not None:
            self._inbound.pop(call_id, None)
            call = self._calls.get(call_id)
            if call is not None and call.hung_up:
                # Nobody reads events() of an inbound call to its end: drop it here.
                self._calls.pop(call_id, None)

    # ---- events -------------------------------------------------------------------------

    def _require(self, attempt_id: str) -> _Call:
        call = self._calls.get(attempt_id)
        if call is None or call.channel is None:
            raise LookupError(f"call {attempt_id}: no live channel known for this attempt")
        return call

    def _push(self, call: _Call, event: CallEvent) -> None:
        call.events.put_nowait(event)

    def _finish(self, call: _Call) -> None:
        call.hung_up = True
        self._retain(call)

    def _retain(self, call: _Call) -> None:
        # Its events stay readable for a while (``events()`` after ``place_call`` returned),
        # then the call is forgotten unless someone is reading: a campaign places millions.
        asyncio.get_running_loop().call_later(self.retain_s, self._forget, call)

    def _forget(self, call: _Call) -> None:
        if self._calls.get(call.attempt_id) is call and not call.readers:
            del self._calls[call.attempt_id]

    @property
    def tracked_calls(self) -> int:
        """Calls the gateway still follows (live ones, and hung-up ones being read)."""
        return len(self._calls)

    def _on_event(self, message: Message) -> None:
        name = message.get("Event", "")
        uniqueid = message.get("Uniqueid", "")
        if name == "VarSet" and message.get("Variable", "").upper() == VAR_ATTEMPT:
            self._inbound_varset(message)
        self._on_call_event(
            self._calls.get(self._inbound_ids.get(uniqueid, uniqueid)), name, message
        )
        if name == "Hangup":
            self._inbound_gone(uniqueid)

    def _on_call_event(self, call: _Call | None, name: str, message: Message) -> None:
        if call is None or call.hung_up:
            return
        if message.get("Channel"):
            call.channel = message["Channel"]
        if name == "Newstate":
            state = message.get("ChannelState")
            if state == "5" and not call.rang:
                call.rang = True
                self._push(call, CallEvent(call.attempt_id, "ringing"))
            elif state == "6" and not call.answered:
                call.answered = True
                self._push(call, CallEvent(call.attempt_id, "answered"))
        elif name == "VarSet":
            variable = message.get("Variable", "").upper()
            if variable == "AMDSTATUS":
                call.amd_status = message.get("Value", "")
            elif variable == "AMDCAUSE":
                call.amd_cause = message.get("Value", "")
                call.amd_done.set()
                outcome = outcome_for_amd(call.amd_status, call.amd_cause)
                if isinstance(outcome, TelephonyOutcome):
                    self._push(call, CallEvent(call.attempt_id, "machine", outcome=outcome))
        elif name == "DTMFEnd" and message.get("Direction", "Received") == "Received":
            self._push(call, CallEvent(call.attempt_id, "dtmf", digit=message.get("Digit")))
        elif name in ("HangupRequest", "SoftHangupRequest"):
            cause = _cause(message)
            if cause:  # a request without a cause (0) says nothing yet; the Hangup will
                call.cause = cause
                call.cause_seen.set()
        elif name == "Hangup":
            cause = _cause(message)
            if cause or call.cause is None:
                call.cause = cause
            call.cause_seen.set()
            if call.answered:
                call.amd_done.set()
                self._push(
                    call,
                    CallEvent(
                        call.attempt_id,
                        "hangup",
                        cause=call.cause,
                        outcome=outcome_for_cause(call.cause, True),
                    ),
                )
                self._finish(call)

    def _disconnected(self) -> None:
        """Calls whose events can no longer arrive end with an ``unknown`` hang-up."""
        self._inbound.clear()
        self._inbound_ids.clear()
        for call in list(self._calls.values()):
            if call.answered and not call.hung_up:
                self._push(
                    call, CallEvent(call.attempt_id, "hangup", outcome=TelephonyOutcome.UNKNOWN)
                )
                self._finish(call)


def _cause(message: Message) -> int:
    try:
        return int(message.get("Cause", "0") or 0)
    except ValueError:
        return 0
