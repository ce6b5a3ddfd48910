"""The gateway interface: how activities place and control calls, whatever the PBX.

Two implementations: ``telephony.ami.AsteriskGateway`` (a real Asterisk over AMI) and
``telephony.sim.SimGateway`` (the simulated PBX, itself a real AMI server; the gateway for it is
the same AMI client pointed at the simulator). Activities depend on this module only.

Correlation: the attempt id is a UUID used as the AMI ``ChannelId``, as the AudioSocket UUID
(passed to the dialplan as a channel variable) and in the Temporal activity id, so a call can be
followed from the workflow to the PBX and to the media session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from dsl.outcomes import BuiltinOutcome, TelephonyOutcome

ATTEMPT_ATTRIBUTE = "voxflow.attempt_id"
"""The trace attribute every span of a call carries (``runtime/observability/tracing.py``)."""


@dataclass(frozen=True)
class DialRequest:
    attempt_id: str
    """Canonical 36-char UUID of the attempt."""
    to: str
    """E.164 number."""
    caller_id: str | None = None
    ring_timeout_ms: int = 30_000
    detect_machine: bool = True
    hangup_machine: bool = False
    """Hang up at once on a machine (the PBX does it before connecting any media)."""
    variables: Mapping[str, str] = field(default_factory=dict)
    """Extra channel variables (strings only; AMI carries text)."""
    audiosocket: str | None = None
    """``host:port`` of the AudioSocket server that must take this call (the worker that runs
    the conversation); ``None`` uses the gateway's default."""


@dataclass(frozen=True)
class DialResult:
    attempt_id: str
    answered: bool
    outcome: TelephonyOutcome | BuiltinOutcome | None
    """Set when not answered, or answered by a machine (``machine`` / ``voicemail``), or
    answered by someone who hung up before the conversation could start (``hung_up``:
    ``AMDSTATUS=HANGUP``)."""
    channel: str | None = None
    cause: int | None = None
    """Q.850 cause from the PBX, when it gave one."""
    detail: str = ""


@dataclass(frozen=True)
class CallEvent:
    attempt_id: str
    kind: Literal["ringing", "answered", "machine", "dtmf", "hangup"]
    digit: str | None = None
    cause: int | None = None
    outcome: TelephonyOutcome | None = None


class Gateway(Protocol):
    async def place_call(self, request: DialRequest) -> DialResult:
        """Originate the call and return once it is answered or has failed.

        At most once: an implementation never retries an originate on its own.
        """
        ...

    def events(self, attempt_id: str) -> AsyncIterator[CallEvent]:
        """Events of one call, from answer to hang-up (ends after the ``hangup`` event)."""
        ...

    async def hangup(self, attempt_id: str) -> None: ...

    async def transfer(self, attempt_id: str, to: str) -> None: ...

    async def send_dtmf(self, attempt_id: str, digits: str) -> None:
        """Play DTMF digits to the callee."""
        ...

    async def close(self) -> None: ...
