"""The flow IR: what every other part of voxflow runs.

Both syntaxes (``*.flow`` and ``*.flow.yaml``) compile to these frozen dataclasses. The IR is
position-free and canonical: two sources that mean the same thing give byte-identical IR JSON
and therefore the same content hash. Expressions and templates are carried as canonical source
text; consumers compile them once with ``dsl.expr`` / ``dsl.templates`` (cached by text).

Contract for consumers (engine, workflows, providers, studio):
- every node name a transition targets exists; ``Agent.start`` exists;
- every name an expression or template reads is declared in ``Agent.context``,
  ``Agent.variables``, a slot or a tool's ``into`` (checked at compile time);
- durations are integer milliseconds; clock times are ``"HH:MM"`` strings; dates ISO ``YYYY-MM-DD``.

Extend this module additively (new optional fields with defaults); never rename a field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field as PydanticField
from pydantic import TypeAdapter

from dsl.ir_campaign import CallingWindow as CallingWindow
from dsl.ir_campaign import Campaign
from dsl.ir_campaign import ContactsSource as ContactsSource
from dsl.ir_campaign import Holidays as Holidays
from dsl.ir_campaign import OutcomeRule as OutcomeRule
from dsl.ir_campaign import Pacing as Pacing

IR_VERSION = 1

# --- building blocks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    """An expression of the voxflow expression language, in canonical text form."""

    src: str


@dataclass(frozen=True)
class Template:
    """A Jinja2 template (rendered in the sandbox with StrictUndefined)."""

    src: str


@dataclass(frozen=True)
class Field:
    """A typed name: a context variable, a tool parameter, a flow variable.

    ``type`` is a type name of ``dsl.types``: ``str``, ``int``, ``float``, ``bool``, ``date``,
    ``time``, ``datetime``, ``duration``, ``tz``, ``phone``, ``email``, ``money``, ``digits``,
    ``list[<type>]`` or ``enum[a|b|c]``.
    """

    name: str
    type: str
    required: bool = True
    description: str = ""
    default: Expr | None = None


@dataclass(frozen=True)
class Slot:
    """A value the node collects from the caller (``collect``)."""

    name: str
    type: str
    prompt: Template | None = None
    """What to ask when the slot is missing."""
    validate: Expr | None = None
    """Condition over the candidate value (bound as ``value``) and the context."""
    invalid: Template | None = None
    """What to say when the value fails validation."""
    max_asks: int = 3
    required: bool = True
    description: str = ""
    on_change: Literal["rerun", "keep"] | None = None
    """What a correction of the filled slot does: ``rerun`` goes back to the earliest node
    visited since it was filled that reads it; ``keep`` only changes the value. ``None``:
    the agent's ``on_change``."""


# --- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetAction:
    name: str
    """A flow variable (``vars.x``) or slot name."""
    value: Expr
    kind: Literal["set"] = "set"


@dataclass(frozen=True)
class CallAction:
    tool: str
    args: tuple[tuple[str, Expr], ...] = ()
    into: str | None = None
    """Variable that receives the tool's result (readable as ``<into>.<field>``)."""
    kind: Literal["call"] = "call"


@dataclass(frozen=True)
class SubFlowCall:
    """Run sub-flow ``flow`` with ``args``; when it returns, bind its results to ``into`` and
    enter ``then``. It leaves the node: in ``on_enter`` it runs after the ``say`` lines.

    ``then`` is ``None`` only in a transition's ``do`` (a digression): the call comes back to
    the node it interrupted, which is resumed without running its entry again (its missing
    slot is asked again).
    """

    flow: str
    then: str | None
    args: tuple[tuple[str, Expr], ...] = ()
    into: str | None = None
    kind: Literal["subflow"] = "subflow"


@dataclass(frozen=True)
class ReturnAction:
    """Leave the running sub-flow with these result values (back to its caller's ``then``)."""

    values: tuple[tuple[str, Expr], ...] = ()
    kind: Literal["return"] = "return"


@dataclass(frozen=True)
class SayAction:
    text: Template
    kind: Literal["say"] = "say"


@dataclass(frozen=True)
class OutcomeAction:
    outcome: str
    kind: Literal["outcome"] = "outcome"


@dataclass(frozen=True)
class TransferAction:
    to: Template
    """A phone number, SIP URI or dialplan extension, templated."""
    kind: Literal["transfer"] = "transfer"


@dataclass(frozen=True)
class EndAction:
    """Hang up; sets ``outcome`` first when given."""

    outcome: str | None = None
    kind: Literal["end"] = "end"


Action = Annotated[
    SetAction
    | CallAction
    | SayAction
    | OutcomeAction
    | TransferAction
    | EndAction
    | SubFlowCall
    | ReturnAction,
    PydanticField(discriminator="kind"),
]

# --- transitions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentTransition:
    """Chosen by the model: compiled to a function tool named ``name``."""

    name: str
    description: str
    target: str | None
    examples: tuple[str, ...] = ()
    params: tuple[Field, ...] = ()
    """Arguments the model passes with the transition (become slots of the same name)."""
    actions: tuple[Action, ...] = ()
    kind: Literal["intent"] = "intent"


@dataclass(frozen=True)
class WhenTransition:
    """Decided by the engine, never by the model: taken as soon as ``condition`` holds."""

    condition: Expr
    target: str | None
    actions: tuple[Action, ...] = ()
    kind: Literal["when"] = "when"


@dataclass(frozen=True)
class DtmfTransition:
    digits: str
    """Exact key sequence (``1``, ``*9``) or ``any``."""
    target: str | None
    actions: tuple[Action, ...] = ()
    kind: Literal["dtmf"] = "dtmf"


@dataclass(frozen=True)
class SilenceTransition:
    """No input for ``after_ms``: re-prompt up to ``max_reprompts`` times, then leave."""

    after_ms: int
    target: str | None
    reprompt: Template | None = None
    max_reprompts: int = 0
    actions: tuple[Action, ...] = ()
    kind: Literal["silence"] = "silence"


@dataclass(frozen=True)
class NoMatchTransition:
    """The caller said something no transition matched, ``max_retries`` + 1 times in a row."""

    target: str | None
    reprompt: Template | None = None
    max_retries: int = 0
    actions: tuple[Action, ...] = ()
    kind: Literal["no_match"] = "no_match"


@dataclass(frozen=True)
class ToolErrorTransition:
    """A tool failed (an error, or no result in time): ``tool`` names which, ``None`` any.

    Taken instead of the fallback; ``tool_error.tool`` and ``tool_error.message`` say what
    failed. Without one, a failed ``call`` action sets the outcome ``tool_error``.
    """

    tool: str | None
    target: str | None
    actions: tuple[Action, ...] = ()
    kind: Literal["tool_error"] = "tool_error"


@dataclass(frozen=True)
class FailuresTransition:
    """The retry budget: taken at the ``max``-th failure of any kind (silence, no match, a
    value failing validation), in place of its re-prompt.

    In a node it counts the failures of the current visit; among the global transitions, the
    failures of the whole call.
    """

    max: int
    target: str | None
    actions: tuple[Action, ...] = ()
    kind: Literal["failures"] = "failures"


@dataclass(frozen=True)
class ClarifyTransition:
    """Two intents were too close to choose between: the provider reports them instead of
    guessing. Without a target the engine asks which one the caller meant, in ``say`` (it reads
    ``clarify.first`` and ``clarify.second``) or its default wording, and the answer takes the
    chosen intent; with a target it leaves instead. ``off``: the better one is taken, no
    question is asked.
    """

    say: Template | None = None
    target: str | None = None
    off: bool = False
    actions: tuple[Action, ...] = ()
    kind: Literal["clarify"] = "clarify"


@dataclass(frozen=True)
class ChitchatTransition:
    """The caller made small talk (how are you, are you a robot, the weather). Without a
    target the engine answers briefly, in ``say`` (it reads ``chitchat.topic`` and
    ``chitchat.answer``) or the built-in answer, and asks the interrupted question again; it
    is not a failure. ``off``: small talk is a no-match like any other answer.
    """

    say: Template | None = None
    target: str | None = None
    off: bool = False
    actions: tuple[Action, ...] = ()
    kind: Literal["chitchat"] = "chitchat"


Transition = Annotated[
    IntentTransition
    | WhenTransition
    | DtmfTransition
    | SilenceTransition
    | NoMatchTransition
    | ToolErrorTransition
    | FailuresTransition
    | ClarifyTransition
    | ChitchatTransition,
    PydanticField(discriminator="kind"),
]

# --- tools -----------------------------------------------------------------------------------

BUILTIN_TOOLS: tuple[str, ...] = (
    "end_call",
    "transfer",
    "schedule_callback",
    "opt_out",
    "set_outcome",
    "knowledge_search",
)


@dataclass(frozen=True)
class HttpTool:
    """An HTTP endpoint the agent may call, declared in the flow file."""

    name: str
    description: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    url: Template
    params: tuple[Field, ...] = ()
    headers: tuple[tuple[str, Template], ...] = ()
    """Header templates; secrets are read as ``env.NAME`` (resolved at call time, never logged)."""
    body: Template | None = None
    timeout_ms: int = 5000
    retries: int = 0
    """Only honoured for idempotent methods (GET, PUT, DELETE)."""
    response: tuple[tuple[str, str], ...] = ()
    """(result field, JSONPath-like dotted path into the response body)."""
    on_error: str | None = None
    """Node to go to when the call fails after retries."""
    kind: Literal["http"] = "http"


@dataclass(frozen=True)
class KnowledgeTool:
    """Parameters of the built-in ``knowledge_search`` for this agent."""

    collection: str
    top_k: int = 3
    kind: Literal["knowledge"] = "knowledge"


Tool = Annotated[HttpTool | KnowledgeTool, PydanticField(discriminator="kind")]

# --- agent -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    name: str
    say: tuple[Template, ...] = ()
    """Spoken verbatim on entry, in order."""
    task: Template | None = None
    """Instruction for the model while in this node."""
    collect: tuple[Slot, ...] = ()
    tools: tuple[str, ...] = ()
    """Tools (built-in or declared) the model may call in this node."""
    on_enter: tuple[Action, ...] = ()
    transitions: tuple[Transition, ...] = ()
    description: str = ""
    turn: TurnDetection | None = None
    """This node's own turn detection, over the agent's (``Agent.turn_in``); ``None``: the
    agent's."""


@dataclass(frozen=True)
class SubFlow:
    """A reusable flow with typed parameters and results, called by ``SubFlowCall``.

    Its nodes are ``Agent.nodes`` named ``<flow>.<node>`` (so the graph, coverage and the
    engine see them like any node); ``start`` is such a name. Inside, expressions read
    ``params.<name>``, the sub-flow's own ``slots.<name>`` and ``now``: everything else is
    passed in explicitly. ``return`` gives the results back.
    """

    name: str
    start: str
    params: tuple[Field, ...] = ()
    results: tuple[Field, ...] = ()
    description: str = ""
    source: str | None = None
    """The flow file it was imported from, as the import wrote it (``None``: this file)."""

    def owns(self, node: str) -> bool:
        return node.startswith(self.name + ".")


TurnMode = Literal["server_vad", "semantic_vad"]
Eagerness = Literal["low", "medium", "high", "auto"]


@dataclass(frozen=True)
class TurnDetection:
    """How the provider decides that the caller has finished speaking.

    An agent's is complete (``mode`` set); a node's holds what the node itself wrote, and
    ``None`` fields come from the agent (see ``Agent.turn_in``).
    """

    mode: TurnMode | None = None
    vad_threshold: float | None = None
    """Server VAD only: speech level from 0 to 1 (the provider's default when ``None``)."""
    eagerness: Eagerness | None = None
    """Semantic VAD only: how soon the caller's turn is taken as ended (``auto`` = medium)."""
    silence_ms: int | None = None
    """The pause that ends a turn (server VAD's ``silence_duration_ms``, Ultravox's
    ``turnEndpointDelay``)."""
    prefix_padding_ms: int | None = None
    """Server VAD only: audio kept from before the detected start of speech."""

    def over(self, base: TurnDetection) -> TurnDetection:
        """This node's settings on top of the agent's ``base``.

        A parameter belongs to one mode: when the node changes the mode, the agent's
        threshold or eagerness (written for the other mode) is not carried over.
        """
        mode = self.mode or base.mode or "server_vad"
        same = mode == (base.mode or "server_vad")
        threshold = self.vad_threshold
        eagerness = self.eagerness
        padding = self.prefix_padding_ms
        if same:
            threshold = base.vad_threshold if threshold is None else threshold
            eagerness = base.eagerness if eagerness is None else eagerness
            padding = base.prefix_padding_ms if padding is None else padding
        return TurnDetection(
            mode=mode,
            vad_threshold=threshold if mode == "server_vad" else None,
            eagerness=eagerness if mode == "semantic_vad" else None,
            silence_ms=base.silence_ms if self.silence_ms is None else self.silence_ms,
            prefix_padding_ms=padding if mode == "server_vad" else None,
        )


@dataclass(frozen=True)
class ProviderSettings:
    voice: str | None = None
    """The voice for every provider, unless ``voices`` names one for it."""
    voices: tuple[tuple[str, str], ...] = ()
    """(provider, voice) pairs: each provider's own voice (their voice names differ)."""
    language: str = "en-US"
    turn_detection: Literal["server_vad", "semantic_vad", "none"] = "server_vad"
    vad_threshold: float | None = None
    eagerness: Literal["low", "medium", "high", "auto"] | None = None
    """How soon semantic VAD takes the caller's turn as ended (``auto`` is ``medium``)."""
    silence_duration_ms: int | None = None
    prefix_padding_ms: int | None = None
    """Server VAD only: audio kept from before the detected start of speech."""
    fallback: tuple[str, ...] = ()
    """Providers to try in order (``openai``, ``ultravox``, ``local``) when the first fails."""
    apology: Template | None = None
    """Spoken before hanging up when no provider can take the call."""

    def voice_for(self, provider: str) -> str | None:
        """The voice to ask ``provider`` for: its own, else the shared one, else none."""
        return dict(self.voices).get(provider, self.voice)

    @property
    def turn(self) -> TurnDetection:
        """The agent's turn detection (every node's unless it sets its own)."""
        return TurnDetection(
            mode="semantic_vad" if self.turn_detection == "semantic_vad" else "server_vad",
            vad_threshold=self.vad_threshold,
            eagerness=self.eagerness,
            silence_ms=self.silence_duration_ms,
            prefix_padding_ms=self.prefix_padding_ms,
        )


@dataclass(frozen=True)
class Agent:
    name: str
    persona: Template
    start: str
    nodes: tuple[Node, ...]
    context: tuple[Field, ...] = ()
    """Names readable as ``contact.<name>`` (the contact's columns)."""
    campaign_context: tuple[Field, ...] = ()
    """Names readable as ``campaign.<name>``."""
    variables: tuple[Field, ...] = ()
    """Flow variables, readable and settable as ``vars.<name>``."""
    outcomes: tuple[str, ...] = ()
    """The agent's own outcome vocabulary (telephony and built-in outcomes come on top)."""
    tools: tuple[Tool, ...] = ()
    global_transitions: tuple[Transition, ...] = ()
    fallback: str | None = None
    """Node the engine moves to when a call is stuck (no reply to a pending transition...)."""
    provider: ProviderSettings = field(default_factory=ProviderSettings)
    timezone: str = "UTC"
    """Default time zone for contacts that have none."""
    subflows: tuple[SubFlow, ...] = ()
    on_change: Literal["rerun", "keep"] = "rerun"
    """The default of every slot's ``on_change`` (what a correction does)."""

    def turn_in(self, node: Node) -> TurnDetection:
        """The turn detection in force while the call is in ``node``."""
        base = self.provider.turn
        return base if node.turn is None else node.turn.over(base)


# --- document --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    agent: Agent
    campaign: Campaign | None = None
    version: int = IR_VERSION

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no whitespace. Equal flows give equal bytes."""
        data = _ADAPTER.dump_python(self, mode="json")
        agent = data["agent"]
        for key in _OMITTED_WHEN_EMPTY:
            # Added after flows were stored by hash: a flow without them keeps its hash.
            if not agent.get(key):
                agent.pop(key, None)
        for key, default in _OMITTED_WHEN_DEFAULT:
            if agent.get(key) == default:
                agent.pop(key, None)
        if agent["provider"].get("prefix_padding_ms") is None:
            agent["provider"].pop("prefix_padding_ms", None)  # idem
        for node in agent["nodes"]:
            # Added after flows were stored by hash, like the agent fields above.
            if node.get("turn") is None:
                node.pop("turn", None)
            for slot in node["collect"]:
                if slot.get("on_change") is None:
                    slot.pop("on_change", None)
        return _canonical(data)

    @property
    def hash(self) -> str:
        """``sha256:<hex>`` of the canonical JSON."""
        return "sha256:" + hashlib.sha256(self.to_json().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str | bytes) -> Flow:
        return _ADAPTER.validate_json(text)

    def node(self, name: str) -> Node:
        for n in self.agent.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


_OMITTED_WHEN_EMPTY = ("subflows",)
"""Agent fields left out of the canonical JSON when empty (``from_json`` restores the
default)."""
_OMITTED_WHEN_DEFAULT = (("on_change", "rerun"),)
"""Agent fields left out when they hold their default; a slot's ``on_change`` likewise when
``None``."""


def _canonical(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_ADAPTER: TypeAdapter[Flow] = TypeAdapter(Flow)
