"""Inputs, results and signals of the campaign workflows and of the activities they call.

Activities are called by name (:class:`ActivityName`) so the workflow modules import no I/O
code; these dataclasses are the contract between both sides. Times are aware datetimes (UTC).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pydantic.dataclasses

from dsl.ir import CallingWindow, Campaign, Pacing

schema_dataclass = pydantic.dataclasses.dataclass
"""For what a fresh contact workflow decodes (its input, its activities' results): each
sandboxed workflow run builds its own payload converter, whose pydantic schemas start empty.
A stdlib dataclass's schema is then rebuilt for every contact (4 ms for ``ContactInput``); a
pydantic dataclass carries its schema, built once at import. The JSON is the same."""

SHARED_TASK_QUEUE = "voxflow"
"""The queue every worker polls; dial and converse go to a worker's own queue instead."""


class ActivityName:
    CONTACTS_PAGE = "campaign_contacts_page"
    BEGIN_ATTEMPT = "begin_attempt"
    """Record the attempt and answer this worker's route, in one local activity."""
    DIAL = "dial"
    CONVERSE = "converse"
    RECORD_RESULT = "record_attempt_result"
    ADD_DNC = "add_dnc"
    RECORD_STATE = "record_contact_state"


ContactStatus = Literal[
    "pending", "scheduled", "waiting_slot", "dialing", "recording", "final", "stopped"
]
"""``dialing`` covers the whole call (dial and conversation); any later status frees its
dial slot (``recording`` is kept for histories written before that)."""


@dataclass
class ContactRef:
    id: str
    """The contact's id in the campaign (from the contacts file), used in workflow ids."""
    phone: str
    """E.164."""
    timezone: str
    name: str = ""
    """Display name (memo, progress); never a key."""
    variables: dict[str, str] = field(default_factory=dict)
    """The contact's columns, readable by the flow as ``contact.<name>``."""


@dataclass
class CampaignPlan:
    """Everything a contact's attempts need from the campaign, fixed when it starts."""

    name: str
    flow_hash: str
    campaign: Campaign
    closed_dates: tuple[str, ...] = ()
    """Local dates on which nobody is called (holidays resolved at start)."""
    default_timezone: str = "UTC"


# --- campaign workflow -----------------------------------------------------------------------


@dataclass
class ContactsPageInput:
    campaign: str
    cursor: str | None
    limit: int


@dataclass
class ContactsPage:
    contacts: list[ContactRef]
    next_cursor: str | None
    """None when this page was the last."""


@dataclass
class LiveContact:
    status: ContactStatus
    attempts: int = 0
    next_at: datetime | None = None
    outcome: str | None = None


@dataclass
class CampaignState:
    """The whole state of a campaign run: continue-as-new passes exactly this."""

    cursor: str | None = None
    exhausted: bool = False
    paused: bool = False
    stopping: bool = False
    pacing: Pacing | None = None
    """Pacing changed by an update; None keeps the flow's."""
    pacing_started_at: datetime | None = None
    recent_grants: list[datetime] = field(default_factory=list)
    dispatched: int = 0
    live: dict[str, LiveContact] = field(default_factory=dict)
    """Contacts whose workflow has not ended, by workflow id (bounded by ``max_live``)."""
    waiting: list[str] = field(default_factory=list)
    """Contact workflow ids asking for a dial slot, in order of asking."""
    queued: list[ContactRef] = field(default_factory=list)
    """Contacts read whose window was open but pacing had no room: each starts with a dial
    slot reserved once one frees (or without one, its window having closed meanwhile)."""
    holders: list[str] = field(default_factory=list)
    """Contact workflow ids holding a dial slot."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """Final outcomes of finished contacts."""
    finished: int = 0
    stopped_contacts: int = 0


@dataclass
class CampaignInput:
    plan: CampaignPlan
    page_size: int = 100
    max_live: int = 1000
    """Contact workflows alive at once; bounds the campaign's state and history."""
    state: CampaignState = field(default_factory=CampaignState)
    history_limit: int = 8_000
    """Continue as new past this many events even if the server does not suggest it yet."""


@dataclass
class CampaignProgress:
    name: str
    dispatched: int
    finished: int
    exhausted: bool
    paused: bool
    stopping: bool
    in_call: int
    waiting_slot: int
    scheduled: int
    outcomes: dict[str, int]
    pacing: Pacing
    next_attempts: dict[str, datetime]
    """Scheduled contacts' next attempt time, by contact workflow id."""


@dataclass
class CampaignResult:
    name: str
    dispatched: int
    finished: int
    stopped: int
    outcomes: dict[str, int]


@dataclass
class ContactUpdate:
    """A contact workflow telling its campaign where it stands."""

    workflow_id: str
    status: ContactStatus
    attempts: int = 0
    next_at: datetime | None = None
    outcome: str | None = None


# --- contact workflow ------------------------------------------------------------------------


@schema_dataclass
class ContactInput:
    plan: CampaignPlan
    contact: ContactRef
    campaign_workflow_id: str | None
    """Where to ask for dial slots; None dials without campaign pacing (single contact)."""
    granted: bool = False
    """The campaign reserved a dial slot for the first attempt (the window was open and pacing
    had room when it started the contact): no slot request. Any status report but ``dialing``
    hands it back."""


@dataclass
class AttemptRecord:
    attempt_id: str
    number: int
    """1-based attempt number for this contact."""
    started_at: datetime
    outcome: str | None = None
    detail: str = ""
    dialled: bool = False
    """Whether the dial activity reached the PBX (False: refused before the originate)."""


@dataclass
class ContactResult:
    contact_id: str
    status: Literal["final", "stopped"]
    outcome: str | None
    attempts: list[AttemptRecord]


@schema_dataclass
class WorkerRoute:
    task_queue: str
    """The worker's own task queue (dial and converse of one call go there)."""
    audiosocket: str
    """host:port of that worker's AudioSocket server (``VOXFLOW_AUDIOSOCKET`` in the dialplan)."""


@dataclass
class AttemptStart:
    attempt_id: str
    campaign: str
    contact_id: str
    phone: str
    number: int
    flow_hash: str
    scheduled_at: datetime


@dataclass
class DialInput:
    attempt_id: str
    campaign: str
    contact_id: str
    phone: str
    timezone: str
    windows: tuple[CallingWindow, ...]
    """The campaign's calling windows (checked again against the wall clock at dial time)."""
    closed_dates: tuple[str, ...]
    audiosocket: str
    caller_id: str | None = None
    ring_timeout_ms: int = 30_000
    detect_machine: bool = True
    hangup_machine: bool = True
    """Hang up at once when a machine answers (the campaign's ``amd: hangup``)."""


@schema_dataclass
class DialOutcome:
    attempt_id: str
    answered: bool
    outcome: str | None
    """Telephony outcome when not answered by a person (busy, no_answer, machine...)."""
    cause: int | None = None
    detail: str = ""


@dataclass
class ConverseCall:
    """Input of the ``converse`` activity: the JSON shape of ``activities.converse.ConverseInput``
    (mirrored here so the workflow modules import no activity code)."""

    attempt_id: str
    flow_hash: str
    contact: dict[str, Any]
    campaign: dict[str, Any] = field(default_factory=dict)
    """``name``, ``contact_id`` and, for an answering machine, ``start_node`` (the AMD node)."""
    provider: str | None = None


@schema_dataclass
class ConverseOutcome:
    """Result of the ``converse`` activity (the JSON shape of ``ConverseResult``)."""

    outcome: str
    callback_at: str | None = None
    """ISO 8601 aware datetime the callee asked to be called back at."""
    opted_out: bool = False
    node_path: list[str] = field(default_factory=list)
    turns: int = 0
    duration_ms: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class AttemptEnd:
    attempt_id: str
    campaign: str
    contact_id: str
    outcome: str
    dialled: bool
    action: Literal["retry", "callback", "dnc", "final", "window"]
    next_at: datetime | None
    detail: str = ""


@dataclass
class ContactState:
    """Where a contact stands, for PostgreSQL (waiting for its window, stopped...)."""

    campaign: str
    contact_id: str
    status: ContactStatus
    next_at: datetime | None = None
    outcome: str | None = None


@dataclass
class DncEntry:
    phone: str
    campaign: str
    contact_id: str
    reason: str


# --- inbound ---------------------------------------------------------------------------------


@dataclass
class InboundInput:
    call_id: str
    """The AudioSocket UUID of the inbound call."""
    caller: str
    flow_hash: str
    task_queue: str
    """The queue of the worker holding the media session."""
    did: str = ""
    """The number the caller dialled, as the PBX reported it (empty when unknown)."""


@dataclass
class InboundResult:
    call_id: str
    outcome: str
