"""The Temporal contract: every workflow's and activity's input and result, and the names of
activities, signals and queries.

Both sides import this module and nothing else of each other: workflows call activities by
:class:`ActivityName` (so the workflow modules import no I/O code), activities declare
themselves under the same names, clients signal and query by :class:`SignalName` and
:class:`QueryName`. The dataclasses are the payloads; times are aware datetimes (UTC).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import pydantic.dataclasses

from dsl.ir import CallingWindow, Campaign, Pacing

schema_dataclass = pydantic.dataclasses.dataclass
"""For what a fresh contact workflow decodes (its input, its activities' results): each
sandboxed workflow run builds its own payload converter, whose pydantic schemas start empty.
A stdlib dataclass's schema is then rebuilt for every contact (4 ms for ``ContactInput``); a
pydantic dataclass carries its schema, built once at import. The JSON is the same."""

UsageFigures = dict[str, str | int | float | dict[str, int]]
"""One provider's usage of one call, as JSON: ``{"model": ..., "input_tokens": ...,
"rate_limits": {...}, ...}`` (``runtime.providers.base.Usage``)."""

SHARED_TASK_QUEUE = "voxflow"
"""The queue every worker polls; dial and converse go to a worker's own queue instead."""


class ActivityName:
    """Activity type names, as registered by ``activities/`` and called by the workflows."""

    CONTACTS_PAGE = "campaign_contacts_page"
    BEGIN_ATTEMPT = "begin_attempt"
    """Record the attempt and answer this worker's route, in one local activity."""
    DIAL = "dial"
    CONVERSE = "converse"
    RECORD_RESULT = "record_attempt_result"
    ADD_DNC = "add_dnc"
    RECORD_STATE = "record_contact_state"
    RECOVER_ATTEMPT = "recover_attempt"
    """Read back from PostgreSQL what became of an attempt whose result was lost."""
    SETTLE_CLOSED = "settle_closed_contact"
    """Campaign: settle the row of a contact whose workflow closed without reporting."""
    DESCRIBE_CONTACTS = "describe_contact_workflows"
    """Campaign: which contacts started by an earlier run (or whose close this run did not
    see) closed without reporting, and how."""


class SignalName:
    """Signal names of the campaign and contact workflows (senders and handlers use these)."""

    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    """Campaign: stop dialling; contact: end without another attempt."""
    CONTACT_UPDATE = "contact_update"
    """Contact → campaign: where the contact stands (:class:`ContactUpdate`)."""
    DIAL_GRANTED = "dial_granted"
    """Campaign → contact: a dial slot is reserved for it."""
    CAMPAIGN_CONTINUED = "campaign_continued"
    """Campaign → contact: the campaign continued as new; report the end by signal."""


class QueryName:
    PROGRESS = "progress"
    """Campaign: :class:`CampaignProgress`."""
    STATUS = "status"
    """Contact: :class:`ContactUpdate` of where it stands."""


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
    tenant: str = "default"
    """The tenant the campaign belongs to: its workflow ids and ``VoxflowTenant`` say so."""


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
    closed_check_every: timedelta = timedelta(minutes=5)
    """How often a run holding contacts an earlier run started asks Temporal whether any
    closed without reporting (``CampaignWorkflow._check_handed_over``)."""
    hand_over_wait: timedelta = timedelta(minutes=1)
    """How long a run about to continue as new waits for the closes of children that closed
    before it could hand them over; then it asks Temporal how they ended
    (``CampaignWorkflow._hand_over_children``)."""


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
    window_override: str | None = None
    """A test call's "call now": who asked (``runtime.api.auth.may_call_now``). Its attempt
    dials at once whatever the calling windows say, and the attempt records who asked.
    Ignored for a contact of a campaign (``campaign_workflow_id`` set): campaigns always keep
    their windows."""


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
    window_override: str | None = None
    """Who had this attempt dialled outside the calling windows (recorded with it)."""


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
    flow_hash: str | None = None
    """The flow the call will run (for the call's log lines; ``None`` in older histories)."""
    window_override: str | None = None
    """Set only for a test call's "call now": dial whatever the windows say (the override
    is recorded with the attempt first)."""


@schema_dataclass
class DialOutcome:
    attempt_id: str
    answered: bool
    outcome: str | None
    """Telephony outcome when not answered by a person (busy, no_answer, machine...)."""
    cause: int | None = None
    detail: str = ""


@dataclass
class ConverseInput:
    """Input of the ``converse`` activity: run the call whose media is ``attempt_id``."""

    attempt_id: str
    """Canonical 36-char UUID of the attempt; also the AudioSocket UUID of the call's media."""
    flow_hash: str
    """``sha256:<hex>`` of the IR to run (looked up in the flow store)."""
    campaign: str
    """The campaign's name (``inbound`` for inbound calls); readable as ``campaign.name``."""
    contact: dict[str, str] = field(default_factory=dict)
    """The contact's columns (``id``, ``phone``, the file's others), readable as
    ``contact.<name>``."""
    contact_id: str | None = None
    """The contact's id in the campaign; readable as ``campaign.contact_id``."""
    start_node: str | None = None
    """Enter this node instead of the flow's start (the campaign's ``amd_node`` when a
    machine answered)."""
    provider: str | None = None
    """Force a provider (``openai``, ``ultravox``, ``local``); ``None`` = the deployment's
    default followed by the flow's fallbacks."""


@schema_dataclass
class ConverseResult:
    """Result of the ``converse`` activity."""

    outcome: str
    """An agent outcome, a ``BuiltinOutcome`` or a ``TelephonyOutcome`` value."""
    callback_at: str | None = None
    """ISO 8601 aware datetime the callee asked to be called back at, when they did."""
    opted_out: bool = False
    node_path: list[str] = field(default_factory=list)
    """Nodes entered, in order (the start node first)."""
    turns: int = 0
    """Caller turns (utterances or DTMF) handled by the engine."""
    duration_ms: int = 0
    """From the media session's start to hang-up."""
    usage: dict[str, UsageFigures] = field(default_factory=dict)
    """Per provider that carried the call: ``runtime.providers.base.Usage`` as a mapping
    (model, token and audio counts, ``cost_usd``)."""
    error: str | None = None
    """Why the call ended abnormally (provider failure, media timeout), ``None`` otherwise."""


@dataclass
class RecoverAttempt:
    attempt_id: str
    lost: Literal["dial", "converse"]
    """Which activity's result the workflow lost (a worker or Temporal went down)."""


@schema_dataclass
class RecoveredOutcome:
    outcome: str | None
    """What the PBX or the call stored; ``None`` when nothing was stored (still unknown)."""
    detail: str = ""


@dataclass
class AttemptEnd:
    attempt_id: str
    campaign: str
    contact_id: str
    outcome: str
    dialled: bool
    action: Literal["retry", "callback", "dnc", "final", "window", "line"]
    """``window``/``line``: refused at dial time (window closed, no line free), not dialled."""
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


class ClosedOutcome:
    """How a contact whose workflow closed without reporting ends (its contact row's outcome
    and its campaign's count)."""

    TERMINATED = "workflow_terminated"
    FAILED = "workflow_failed"
    TIMED_OUT = "workflow_timed_out"
    CANCELLED = "workflow_cancelled"
    GONE = "workflow_gone"
    """Temporal no longer knows the workflow (closed, then removed after its retention)."""


@dataclass
class ClosedContact:
    """A contact whose workflow closed without settling its row (terminated by an operator,
    failed, timed out): the campaign settles it ``final`` with ``outcome`` saying how, and
    its attempt still open (if it closed mid-call) ``aborted``."""

    campaign: str
    contact_id: str
    outcome: str
    """A :class:`ClosedOutcome`."""
    detail: str = ""
    """Why, as Temporal tells it (a termination's reason, a failure's message)."""


@dataclass
class HandedOverCheck:
    """Contact workflows an earlier campaign run started, before it continued as new: the
    current run holds no handle to them, so it asks Temporal how each one stands."""

    workflow_ids: list[str]


@dataclass
class ClosedWorkflow:
    workflow_id: str
    outcome: str
    """A :class:`ClosedOutcome`."""
    detail: str = ""


@dataclass
class CompletedWorkflow:
    """A contact workflow that completed: its result's status and outcome."""

    workflow_id: str
    status: Literal["final", "stopped"]
    outcome: str | None


@dataclass
class HandedOverStatus:
    closed: list[ClosedWorkflow]
    """Those of the workflows asked about that closed without completing."""
    completed: list[CompletedWorkflow] = field(default_factory=list)
    """Those that completed. One handed over by signal reported its end before it did; one
    whose run missed its close (the hand-over wait timed out) did not, and is settled from
    this. Results recorded before this field read it empty."""


@dataclass
class DncEntry:
    phone: str
    campaign: str
    contact_id: str
    reason: str


# --- inbound ---------------------------------------------------------------------------------

INBOUND_CAMPAIGN = "inbound"
"""Campaign name of inbound calls in PostgreSQL, in ``VoxflowCampaign`` and in ``campaign.name``."""


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
