"""The simulated PBX: a real AMI server (TCP, AMI text protocol) that "dials" scripted callees
and connects answered calls to voxflow over a real AudioSocket connection.

What an ``Originate`` (``Async: true``) does here, mirroring Asterisk:

1. ``Response: Success`` / ``Message: Originate successfully queued``; the originate is
   appended (fsync'd) to the simulator's log.
2. ``Newchannel``, then ``Newstate`` ``ChannelState: 5`` (Ringing) for each ring.
3. Busy / congestion / rejected / failed / no answer, as Asterisk 22 reports them on PJSIP:
   ``OriginateResponse`` ``Response: Failure`` with ``Reason: 0`` for every failure but no
   answer (``Reason: 3``), *then* ``HangupRequest`` and ``Hangup`` with the Q.850 cause
   (17, 34, 21, 1, 19): on a real Asterisk these often follow the OriginateResponse, so the
   simulator always sends them after it. ``Local/`` channels report busy and congestion in the
   ``Reason`` itself (5, 8) with cause 0, as a ``Busy()``/``Congestion()`` dialplan does.
   Originates beyond ``max_concurrent`` live calls fail with CONGESTION (cause 34).
4. Answer: ``Newstate`` ``ChannelState: 6`` (Up), ``OriginateResponse`` ``Reason: 4``; then the
   outbound dialplan: ``AMD()`` (``VarSet`` ``AMDSTATUS`` / ``AMDCAUSE``) when
   ``VOXFLOW_AMD`` is ``1``, and ``AudioSocket(${VOXFLOW_ATTEMPT},${VOXFLOW_AUDIOSOCKET})``.
5. Keys the callee presses: AudioSocket DTMF messages and ``DTMFEnd`` events.
6. Whoever hangs up, ``Hangup`` with ``Cause: 16``.

Inbound calls (:meth:`SimPBX.place_inbound`) follow the ``[voxflow-inbound]`` context of
``telephony/asterisk/extensions.conf``: ``Newchannel`` (``ChannelState: 4`` Ring, the caller's
``CallerIDNum``, ``Exten`` = the dialled number, an Asterisk-style ``Uniqueid``), ``Newstate``
Up (``Answer()``), ``VarSet`` ``VOXFLOW_ATTEMPT`` = a fresh UUID (``Set(...=${UUID()})``), then
``AudioSocket()`` to voxflow with that UUID; the caller runs a scenario script. Over AMI, as on
Asterisk, ``Setvar`` without a channel sets the global ``VOXFLOW_INBOUND_AUDIOSOCKET`` and
``Originate`` of ``Local/<did>@voxflow-inbound`` with a ``CallerID`` places such a call.

Actions: Login, Logoff, Ping, Originate, Hangup, Redirect, PlayDTMF, Setvar, Getvar, Events.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from panoramisk.message import Message

from telephony.audiosocket.client import AudioSocketClient
from telephony.sim.amd import AmdAnalyser
from telephony.sim.ami_server import ActionHandler, AmiServer, Connection
from telephony.sim.callee import CalleeMedia, CallMedia
from telephony.sim.log import OriginateLog
from telephony.sim.scenarios import Callee, Scenarios

INBOUND_CONTEXT = "voxflow-inbound"
INBOUND_TRUNK = "PJSIP/voxflow-trunk"

log = logging.getLogger(__name__)


FAILURES: dict[str, tuple[int, int, str]] = {
    # result: (OriginateResponse Reason on PJSIP, Hangup Cause, Cause-txt)
    "busy": (0, 17, "User busy"),
    "congestion": (0, 34, "Circuit/channel congestion"),
    "rejected": (0, 21, "Call Rejected"),
    "failed": (0, 1, "Unallocated (unassigned) number"),
    "no_answer": (3, 19, "User alerting, no answer"),
}
CAUSE_AFTER_RESPONSE_S = 0.005
"""Gap between a failed OriginateResponse and the channel's HangupRequest/Hangup."""
LOCAL_FAILURES: dict[str, tuple[int, int, str]] = {
    # Local channels: the dialplan's Busy()/Congestion() control frame is the Reason.
    "busy": (5, 0, "Unknown"),
    "congestion": (8, 0, "Unknown"),
}


@dataclass
class SimCall:
    """One originate as the simulator saw it."""

    attempt_id: str
    number: str
    channel: str
    variables: dict[str, str]
    result: str = "dialling"
    state: str = "Down"
    cause: int | None = None
    transferred_to: str | None = None
    dtmf_played: list[str] = field(default_factory=list)
    media: CallMedia | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    callee_media: CalleeMedia | None = None
    task: asyncio.Task[None] | None = None
    direction: str = "outbound"
    uniqueid: str = ""
    """Asterisk's ``Uniqueid``; an originate's is its ``ChannelId`` (the attempt id)."""
    context: str = "voxflow-outbound"
    exten: str = "s"


class SimPBX(AmiServer):
    """Run with ``async with SimPBX(scenarios, log_path=...) as pbx:``; ``pbx.ami_address``."""

    def __init__(
        self,
        scenarios: Scenarios,
        *,
        log_path: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "voxflow",
        secret: str = "voxflow",
        trace_media: bool = False,
    ) -> None:
        super().__init__(host, port, username, secret)
        self.scenarios = scenarios
        self.trace_media = trace_media
        self.log = OriginateLog(log_path)
        self.calls: dict[str, SimCall] = {}
        self.globals: dict[str, str] = {}
        """Global channel variables (``Setvar`` without ``Channel``), as ``[globals]``."""
        self._channel_seq = 0

    # ---- lifecycle ------------------------------------------------------------------------

    def live_calls(self) -> int:
        return sum(1 for c in self.calls.values() if not c.ended.is_set())

    async def close(self) -> None:
        for call in self.calls.values():
            if call.callee_media is not None:
                call.callee_media.stop("pbx")
        await self._stop_serving()
        self.log.close()

    async def __aenter__(self) -> SimPBX:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- actions --------------------------------------------------------------------------

    def _actions(self) -> dict[str, ActionHandler]:
        return {
            "originate": self._originate,
            "hangup": self._hangup,
            "redirect": self._redirect,
            "playdtmf": self._playdtmf,
            "setvar": self._setvar,
            "getvar": self._getvar,
        }

    def _setvar(self, conn: Connection, message: Message) -> None:
        if not message.get("Channel"):
            self.globals[message.get("Variable", "")] = message.get("Value", "")
            self._reply(conn, message, "Success", "Variable Set")
            return
        call = self._by_channel(message.get("Channel", ""))
        if call is not None:
            call.variables[message.get("Variable", "")] = message.get("Value", "")
        self._reply(conn, message, "Success", "Variable Set")

    def _getvar(self, conn: Connection, message: Message) -> None:
        call = self._by_channel(message.get("Channel", ""))
        variables = call.variables if call else {} if message.get("Channel") else self.globals
        value = variables.get(message.get("Variable", ""), "")
        self._reply(
            conn,
            message,
            "Success",
            "Result will follow",
            Variable=message.get("Variable", ""),
            Value=value,
        )

    def _by_channel(self, channel: str) -> SimCall | None:
        """The live call named ``channel``, by its name or, as Asterisk's channel lookup
        falls back to (``ast_channel_get_by_name``, Asterisk's ``main/channel.c``), its Uniqueid."""
        return next(
            (
                c
                for c in self.calls.values()
                if channel in (c.channel, c.uniqueid or c.attempt_id) and not c.ended.is_set()
            ),
            None,
        )

    def _originate(self, conn: Connection, message: Message) -> None:
        channel_req = str(message.get("Channel", ""))
        if not channel_req or "/" not in channel_req:
            self._reply(conn, message, "Error", "Channel not specified")
            return
        if not (
            message.get("Context") and message.get("Exten") and message.get("Priority")
        ) and not message.get("Application"):
            self._reply(
                conn, message, "Error", "Originate with 'Exten' requires 'Context' and 'Priority'"
            )
            return
        if channel_req.startswith("Local/") and channel_req.endswith(f"@{INBOUND_CONTEXT}"):
            self._originate_inbound(conn, message, channel_req)
            return
        attempt_id = str(message.get("ChannelId") or uuid.uuid4())
        if attempt_id in self.calls:
            self._reply(conn, message, "Error", "Uniqueid already in use")
            return
        raw_vars = message.get("Variable", [])
        raw_vars = raw_vars if isinstance(raw_vars, list) else [raw_vars]
        variables = dict(v.split("=", 1) for v in raw_vars if "=" in v)
        number = channel_req.split("/", 1)[1].split("@", 1)[0]
        self._channel_seq += 1
        channel = f"{channel_req.split('@', 1)[0]}-{self._channel_seq:08x}"
        call = SimCall(attempt_id, number, channel, variables)
        self.calls[attempt_id] = call
        self.log.append({"type": "originate", "attempt": attempt_id, "number": number})
        is_async = str(message.get("Async", "false")).lower() in ("true", "yes", "1")
        if is_async:
            self._reply(conn, message, "Success", "Originate successfully queued")
        timeout_ms = int(message.get("Timeout") or 30000)
        call.task = self._spawn(self._dial(conn, message, call, timeout_ms, is_async))

    # ---- a call's life --------------------------------------------------------------------

    def _channel_event(
        self, name: str, call: SimCall, state: int, desc: str, **extra: object
    ) -> None:
        fields: list[tuple[str, object]] = [
            ("Event", name),
            ("Privilege", "call,all"),
            ("Channel", call.channel),
            ("ChannelState", state),
            ("ChannelStateDesc", desc),
            ("CallerIDNum", call.number),
            ("CallerIDName", "<unknown>"),
            ("Context", call.context),
            ("Exten", call.exten),
            ("Priority", 1),
            ("Uniqueid", call.uniqueid or call.attempt_id),
            ("Linkedid", call.uniqueid or call.attempt_id),
        ]
        fields.extend(extra.items())
        self._broadcast(fields)

    def _originate_response(
        self,
        conn: Connection,
        message: Message,
        call: SimCall,
        success: bool,
        reason: int,
        is_async: bool,
    ) -> None:
        if not is_async:
            self._reply(
                conn,
                message,
                "Success" if success else "Error",
                "Originate successfully queued" if success else "Originate failed",
            )
            return
        fields: list[tuple[str, object]] = [
            ("Event", "OriginateResponse"),
            ("Privilege", "call,all"),
        ]
        if message.action_id:
            fields.append(("ActionID", message.action_id))
        fields += [
            ("Response", "Success" if success else "Failure"),
            ("Channel", call.channel if success else str(message.get("Channel"))),
            ("Context", message.get("Context", "")),
            ("Exten", message.get("Exten", "")),
            ("Reason", reason),
            ("Uniqueid", call.uniqueid or call.attempt_id),
            ("CallerIDNum", "<unknown>"),
            ("CallerIDName", "<unknown>"),
        ]
        # The originator's connection gets it even with events off (it is the action's reply).
        conn.send(fields)
        for other in list(self._connections):
            if other is not conn and other.authenticated and other.events:
                other.send(fields)

    def _end(self, call: SimCall, cause: int, text: str) -> None:
        if call.ended.is_set():
            return
        call.cause = cause
        call.state = "Down"
        self._channel_event("Hangup", call, 0, "Down", Cause=cause, **{"Cause-txt": text})
        self.log.append(
            {"type": "hangup", "attempt": call.attempt_id, "number": call.number, "cause": cause}
        )
        call.ended.set()

    async def _dial(
        self, conn: Connection, message: Message, call: SimCall, timeout_ms: int, is_async: bool
    ) -> None:
        callee = self.scenarios.callee(call.number)
        try:
            await self._dial_inner(conn, message, call, callee, timeout_ms, is_async)
        except Exception:
            log.exception("simulated call %s failed", call.attempt_id)
            self._end(call, 38, "Network out of order")
        finally:
            if not call.ended.is_set():
                self._end(call, 16, "Normal Clearing")

    async def _dial_inner(
        self,
        conn: Connection,
        message: Message,
        call: SimCall,
        callee: Callee,
        timeout_ms: int,
        is_async: bool,
    ) -> None:
        ring_s = self.scenarios.ring_ms / 1000
        self._channel_event("Newchannel", call, 0, "Down")
        if self.live_calls() > self.scenarios.max_concurrent:
            result = "congestion"
        else:
            result = callee.result
            call.state = "Ringing"
            self._channel_event("Newstate", call, 5, "Ringing")
            rings = (
                callee.answer_after_rings
                if result == "answer"
                else (1 if result != "no_answer" else 10**9)
            )
            if result in ("congestion", "failed"):
                rings = 0
            waited = 0.0
            for _ in range(rings):
                step = min(ring_s, timeout_ms / 1000 - waited)
                if step <= 0:
                    break
                await asyncio.sleep(step)
                waited += step
            if (
                result == "answer"
                and waited >= timeout_ms / 1000
                and callee.answer_after_rings * ring_s > timeout_ms / 1000
            ):
                result = "no_answer"
        if result != "answer":
            local = call.channel.startswith("Local/")
            reason, cause, text = (LOCAL_FAILURES if local else {}).get(result, FAILURES[result])
            call.result = result
            self._originate_response(conn, message, call, False, reason, is_async)
            # Asterisk's hang-up events trail its OriginateResponse by a fraction of a
            # millisecond; a few ms here make sure they never share a TCP read with it.
            await asyncio.sleep(CAUSE_AFTER_RESPONSE_S)
            if cause:
                self._channel_event("HangupRequest", call, 0, "Down", Cause=cause)
            self._end(call, cause, text)
            self.log.append(
                {
                    "type": "result",
                    "attempt": call.attempt_id,
                    "number": call.number,
                    "result": result,
                }
            )
            return
        call.result = "answered"
        call.state = "Up"
        self._channel_event("Newstate", call, 6, "Up")
        self._originate_response(conn, message, call, True, 4, is_async)
        self.log.append(
            {
                "type": "result",
                "attempt": call.attempt_id,
                "number": call.number,
                "result": "answered",
            }
        )
        media: CalleeMedia | None = None
        runner: asyncio.Task[CallMedia] | None = None
        if call.variables.get("VOXFLOW_AMD", "1") == "1":
            if callee.amd == "audio":
                media = self._callee_media(call, callee, None)
                status, cause, runner = await self._amd_from_audio(media)
            else:
                status, cause = {
                    "human": ("HUMAN", "HUMAN-1000-800"),
                    "machine": (
                        "MACHINE",
                        "LONGGREETING-2000-1500" if callee.greeting else "INITIALSILENCE-2500-2500",
                    ),
                    "notsure": ("NOTSURE", "TOOLONG-5000"),
                    "hangup": ("HANGUP", ""),
                }[callee.amd]
            if call.ended.is_set():  # hung up over AMI while AMD() listened
                return
            self._channel_event("VarSet", call, 6, "Up", Variable="AMDSTATUS", Value=status)
            self._channel_event("VarSet", call, 6, "Up", Variable="AMDCAUSE", Value=cause)
            machine_hangup = status == "MACHINE" and call.variables.get("VOXFLOW_AMD_HANGUP") == "1"
            if status == "HANGUP" or machine_hangup:
                # The dialplan of extensions.conf goes no further: the callee hung up while
                # AMD() listened, or voxflow asked for machines to be hung up there.
                if media is not None and runner is not None:
                    media.stop("callee" if status == "HANGUP" else "pbx")
                    await runner
                self._end(call, 16, "Normal Clearing")
                return
        await self._audiosocket(call, callee, media, runner)

    def _callee_media(
        self, call: SimCall, callee: Callee, client: AudioSocketClient | None
    ) -> CalleeMedia:
        def dtmf_event(digit: str) -> None:
            # Asterisk reports a digit the callee pressed as DTMFEnd on its channel.
            self._channel_event(
                "DTMFEnd", call, 6, "Up", Digit=digit, DurationMs=100, Direction="Received"
            )

        call.callee_media = CalleeMedia(client, callee, trace=self.trace_media, on_dtmf=dtmf_event)
        call.media = call.callee_media.media
        return call.callee_media

    async def _amd_from_audio(self, media: CalleeMedia) -> tuple[str, str, asyncio.Task[CallMedia]]:
        """Run the callee and let ``AMD()`` listen to it until it decides (or they hang up)."""
        analyser = AmdAnalyser()
        decided = asyncio.Event()

        def hear(frame: bytes | None) -> None:
            if (analyser.idle(20) if frame is None else analyser.feed(frame)) is not None:
                decided.set()

        media.before_media = hear
        runner = asyncio.create_task(media.run())
        waiter = asyncio.create_task(decided.wait())
        await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        media.before_media = None
        result = analyser.result or analyser.hangup()
        return result.status, result.cause, runner

    async def _audiosocket(
        self,
        call: SimCall,
        callee: Callee,
        media: CalleeMedia | None = None,
        runner: asyncio.Task[CallMedia] | None = None,
    ) -> None:
        """``AudioSocket()``: connect to voxflow; ``media`` is the callee if already running."""
        target = call.variables.get("VOXFLOW_AUDIOSOCKET", "")
        attempt = call.variables.get("VOXFLOW_ATTEMPT", call.attempt_id)
        host, _, port = target.rpartition(":")
        try:
            client = await AudioSocketClient.connect(host.strip("[]"), int(port), attempt)
        except (OSError, ValueError, TimeoutError) as exc:
            log.warning(
                "call %s: AudioSocket connect to %r failed: %s", call.attempt_id, target, exc
            )
            if media is not None and runner is not None:
                media.stop("pbx")
                await runner
            self._end(call, 38, "Network out of order")
            return
        if media is None or runner is None:
            await self._callee_media(call, callee, client).run()
        else:
            media.attach(client)
            await runner
        if call.transferred_to is None:
            self._end(call, 16, "Normal Clearing")

    # ---- inbound calls --------------------------------------------------------------------

    def place_inbound(
        self,
        audiosocket: str,
        *,
        caller: str,
        did: str,
        script: Callee | None = None,
        call_id: str | None = None,
        caller_id: bool = True,
    ) -> SimCall:
        """Call voxflow from ``caller`` on the dialled number ``did``, as the inbound context does.

        Args:
            audiosocket: ``host:port`` of voxflow's AudioSocket server
                (``VOXFLOW_INBOUND_AUDIOSOCKET`` in the dialplan's ``[globals]``).
            script: what the caller does once connected; default: the scenario of ``caller``.
            call_id: the AudioSocket UUID; default: a fresh one, as ``${UUID()}``.
            caller_id: ``False`` withholds the number (``CallerIDNum: <unknown>``).

        Returns:
            The call, at once; ``call.ended`` is set when it is over.
        """
        call_id = str(uuid.UUID(call_id)) if call_id else str(uuid.uuid4())
        if call_id in self.calls:
            raise ValueError(f"call {call_id} already exists")
        self._channel_seq += 1
        call = SimCall(
            call_id,
            caller if caller_id else "<unknown>",
            f"{INBOUND_TRUNK}-{self._channel_seq:08x}",
            {"VOXFLOW_ATTEMPT": call_id, "VOXFLOW_AUDIOSOCKET": audiosocket},
            direction="inbound",
            uniqueid=f"{time.time():.0f}.{self._channel_seq}",
            context=INBOUND_CONTEXT,
            exten=did.removeprefix("+"),
        )
        self.calls[call_id] = call
        self.log.append({"type": "inbound", "attempt": call_id, "number": caller, "did": did})
        call.task = self._spawn(self._inbound(call, script or self.scenarios.callee(caller)))
        return call

    def _originate_inbound(self, conn: Connection, message: Message, channel_req: str) -> None:
        """``Originate`` of ``Local/<did>@voxflow-inbound``: a call from ``CallerID`` to ``did``."""
        target = self.globals.get("VOXFLOW_INBOUND_AUDIOSOCKET", "")
        if not target:
            self._reply(conn, message, "Error", "VOXFLOW_INBOUND_AUDIOSOCKET is not set")
            return
        raw = str(message.get("CallerID", ""))
        number = m.group(1) if (m := re.search(r"<([^>]*)>", raw)) else raw.strip()
        did = channel_req.removeprefix("Local/").rsplit("@", 1)[0]
        call = self.place_inbound(
            target, caller=number, did=did, caller_id=bool(number) and number != "<unknown>"
        )
        self._reply(conn, message, "Success", "Originate successfully queued")
        if str(message.get("Async", "false")).lower() in ("true", "yes", "1"):
            self._originate_response(conn, message, call, True, 4, True)

    async def _inbound(self, call: SimCall, caller: Callee) -> None:
        try:
            self._channel_event("Newchannel", call, 4, "Ring")
            call.state = call.result = "Up"
            self._channel_event("Newstate", call, 6, "Up")
            self._channel_event(
                "VarSet", call, 6, "Up", Variable="VOXFLOW_ATTEMPT", Value=call.attempt_id
            )
            await self._audiosocket(call, caller)
        except Exception:
            log.exception("simulated inbound call %s failed", call.attempt_id)
            self._end(call, 38, "Network out of order")
        finally:
            if not call.ended.is_set():
                self._end(call, 16, "Normal Clearing")

    # ---- call control actions -------------------------------------------------------------

    def _hangup(self, conn: Connection, message: Message) -> None:
        call = self._by_channel(str(message.get("Channel", "")))
        if call is None:
            self._reply(conn, message, "Error", "No such channel")
            return
        self._reply(conn, message, "Success", "Channel Hungup")
        if call.callee_media is not None:
            call.callee_media.stop("pbx")
        elif call.task is not None:
            call.task.cancel()
        cause = int(message.get("Cause") or 16)
        self._end(call, cause, "Normal Clearing")

    def _redirect(self, conn: Connection, message: Message) -> None:
        call = self._by_channel(str(message.get("Channel", "")))
        if call is None:
            self._reply(conn, message, "Error", "Channel does not exist")
            return
        target = f"{message.get('Exten')}@{message.get('Context')}"
        call.transferred_to = target
        self.log.append(
            {"type": "redirect", "attempt": call.attempt_id, "number": call.number, "to": target}
        )
        self._reply(conn, message, "Success", "Redirect successful")
        # Leaving the AudioSocket() application closes its socket, as in Asterisk.
        if call.callee_media is not None:
            call.callee_media.stop("pbx")
        self._spawn(self._transferred(call))

    async def _transferred(self, call: SimCall) -> None:
        await asyncio.sleep(0.05)
        self._end(call, 16, "Normal Clearing")

    def _playdtmf(self, conn: Connection, message: Message) -> None:
        call = self._by_channel(str(message.get("Channel", "")))
        digit = str(message.get("Digit", ""))
        if call is None or len(digit) != 1:
            self._reply(
                conn, message, "Error", "No such channel" if call is None else "No digit specified"
            )
            return
        call.dtmf_played.append(digit)
        self.log.append(
            {"type": "dtmf", "attempt": call.attempt_id, "number": call.number, "digit": digit}
        )
        self._reply(conn, message, "Success", "DTMF successfully queued")
