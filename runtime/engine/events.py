"""Events into the engine and commands out of it: the contract between the engine and its drivers.

The engine (``runtime.engine.Engine``) is a pure state machine: a driver (the terminal chat,
the conversation-test runner, the studio, a live-call bridge) feeds it ``Event`` values with
``engine.handle(event)`` and carries out the ``Command`` values it returns, in order. The engine
never reads a clock or a socket: time arrives as ``Tick`` and ``Silence`` events, tool results
as ``ToolResult``.

All values are frozen dataclasses of JSON-able fields so that drivers may log, record and
replay them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dsl.ir import TurnDetection
from runtime.engine.frozen import freeze, thaw

NO_MATCH = "no_match"
"""Pseudo-transition a provider calls when the caller's answer fits none of the node's options.

Offered as a function tool only in nodes that declare ``on no_match``."""

PROVIDE_SLOTS = "provide_slots"
"""Pseudo-tool a provider calls with the slot values the caller gave (arguments: slot -> value).

Offered as a function tool only in nodes that ``collect`` slots."""

CLARIFY = "clarify"
"""Pseudo-transition a provider calls when the caller's words fit two intents and it cannot
tell which (arguments: ``intents``, the two names, best first; optional ``arguments``, intent
-> the parameters the words gave). The engine asks which one (``on clarify``); the answer
takes the chosen intent with those parameters. Offered when two or more intents are open and
the flow has not turned clarification off."""

CHITCHAT = "chitchat"
"""Pseudo-transition a provider calls when the caller makes small talk (arguments: ``topic``,
one of ``runtime.engine.repair.CHITCHAT_ANSWERS``). The engine answers briefly and asks the
interrupted question again (``on chitchat``); it is not a failure. Offered unless the flow
turned it off."""

# --- events in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerSaid:
    """The caller said ``text`` (a transcript).

    Emitted by the driver when the provider's transcription of a caller turn is available.
    ``final=False`` marks an interim transcript: the engine records nothing and only resets the
    node's no-input clock (the caller is speaking). The engine itself does not interpret the
    text; the provider does, and reports its decision as ``TransitionCalled``.
    """

    text: str
    final: bool = True


@dataclass(frozen=True)
class CallerUnheard:
    """The caller spoke but their words were lost (the provider could not transcribe them).

    The engine treats it as an answer that matched nothing: the node's ``on no_match``
    re-prompt (or the default one), so the caller is asked again instead of being ignored.
    """

    reason: str = ""


@dataclass(frozen=True)
class TransitionCalled:
    """The model called the function tool ``name`` with ``arguments``.

    ``name`` is an intent transition of the current node, a global transition, a tool listed in
    the node's ``tools`` (the engine turns it into ``CallTool``) or the pseudo-tool
    ``provide_slots`` (arguments are slot values the caller gave). ``call_id`` is the provider's
    function-call id; the engine answers it with ``CallTool`` (same id) or just moves on.
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    call_id: str = ""


@dataclass(frozen=True)
class AgentSaid:
    """The model spoke ``text`` on its own (a reply, not a ``Say`` the engine asked for).

    Only recorded in the transcript; it also means the model answered a ``Respond``.
    """

    text: str


@dataclass(frozen=True)
class DtmfPressed:
    """The caller pressed one key (``0``-``9``, ``*``, ``#``, ``A``-``D``)."""

    digit: str


@dataclass(frozen=True)
class Silence:
    """Nobody has spoken for ``ms`` milliseconds.

    Measured by the driver since the caller last spoke, or since the agent finished speaking,
    whichever is later. Drives the current node's ``on silence`` re-prompts. Drivers emit it
    when a threshold passes (each emission counts once).
    """

    ms: int


@dataclass(frozen=True)
class ToolResult:
    """The outcome of a ``CallTool`` the engine asked for, matched by ``call_id``.

    ``ok=True`` carries ``result`` (a JSON-able value, usually a dict); ``ok=False`` carries
    ``error`` (a sentence safe to log: secrets redacted).
    """

    call_id: str
    ok: bool
    result: Any = None
    error: str | None = None


@dataclass(frozen=True)
class HungUp:
    """The caller (or the network) hung up.

    The engine answers ``End`` with the final outcome (``hung_up`` unless one was already set)
    and ignores every later event.
    """


@dataclass(frozen=True)
class ProviderFailed:
    """The AI provider failed and no fallback provider could take over.

    The engine speaks the flow's apology (if any) and ends with ``provider_error`` unless an
    outcome was already set.
    """

    reason: str


@dataclass(frozen=True)
class Tick:
    """Time passes: ``now`` is the current aware datetime.

    Drivers send it periodically (e.g. every second on a live call). It drives the stuck-call
    guards: a pending tool call or transition with no reply, a node with no input for too long.
    """

    now: datetime


@dataclass(frozen=True)
class SpeechFinished:
    """The agent finished speaking everything queued so far (``Say`` and model replies)."""


Event = (
    CallerSaid
    | CallerUnheard
    | AgentSaid
    | TransitionCalled
    | DtmfPressed
    | Silence
    | ToolResult
    | HungUp
    | ProviderFailed
    | Tick
    | SpeechFinished
)

# --- tool specs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: an intent transition, a tool, or a global transition.

    ``parameters`` is a JSON Schema object (``{"type": "object", "properties": ..., "required":
    [...]}``), kept read-only (``runtime.engine.frozen.freeze``): one spec serves every call of
    a flow (``runtime.engine.plan``), so a call that tries to change it gets a ``TypeError``.
    Payloads take a plain copy (``plain_parameters``).
    """

    name: str
    description: str
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}, "required": []}
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", freeze(self.parameters))

    def plain_parameters(self) -> dict[str, Any]:
        """A fresh plain copy of ``parameters`` (dicts and lists) for one payload."""
        return thaw(self.parameters)  # type: ignore[no-any-return]

    def openai(self) -> dict[str, Any]:
        """The OpenAI Realtime ``session.tools`` item (a function tool)."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.plain_parameters(),
        }

    def ultravox(self) -> dict[str, Any]:
        """The Ultravox ``selectedTools`` item: a temporary client tool."""
        props: Mapping[str, Any] = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", ()))
        return {
            "temporaryTool": {
                "modelToolName": self.name,
                "description": self.description,
                "dynamicParameters": [
                    {
                        "name": name,
                        "location": "PARAMETER_LOCATION_BODY",
                        "schema": thaw(schema),
                        "required": name in required,
                    }
                    for name, schema in props.items()
                ],
                "client": {},
            }
        }


# --- commands out ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Speak ``text`` verbatim (already rendered). Queued after anything already speaking."""

    text: str


@dataclass(frozen=True)
class UpdateSession:
    """A node was entered: replace the model's instructions and tools.

    ``instructions`` = persona + the node's task + what is known (slots, missing slots).
    ``tools`` = the node's intent transitions, the node's tools and the global transitions.
    ``turn`` = the turn detection in force in the node (the node's own over the agent's);
    ``None`` when the driver does not know it (the provider keeps what it has).
    """

    instructions: str
    tools: tuple[ToolSpec, ...] = ()
    turn: TurnDetection | None = None


@dataclass(frozen=True)
class Respond:
    """Ask the model to produce a turn for the current task now (e.g. after a tool result)."""


@dataclass(frozen=True)
class CallTool:
    """Run tool ``name`` with ``arguments`` and answer with ``ToolResult(call_id, ...)``.

    Executed outside the engine (``runtime.tools.ToolRunner``). ``call_id`` is the provider's
    function-call id when the model asked for it, or an engine-made id (``<call>:t<n>``) for a
    flow ``call`` action.
    """

    call_id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    """Transfer the call to ``to`` (a phone number, SIP URI or extension). ``End`` follows."""

    to: str


@dataclass(frozen=True)
class End:
    """Hang up after the queued speech; the call's final outcome is ``outcome``."""

    outcome: str


@dataclass(frozen=True)
class SetOutcome:
    """The call's outcome is now ``outcome`` (may still change until ``End``)."""

    outcome: str


@dataclass(frozen=True)
class NodeEntered:
    """The engine entered node ``name`` (for transcripts, coverage, studio highlighting).

    ``via`` names what led there: ``start``, a transition (``intent:<name>``, ``when``,
    ``dtmf:<digits>``, ``silence``, ``no_match``, ``tool_error[:<tool>]``, ``failures``,
    ``global:<name>``, ``clarify``, ``chitchat``), ``fallback``, ``on_error:<tool>``, a
    sub-flow's ``call:<flow>`` / ``return:<flow>``, or ``correction:<slot>`` (a corrected slot
    sent the call back to a node that reads it).
    """

    name: str
    via: str = ""


@dataclass(frozen=True)
class TemplateFailed:
    """A template of the flow did not render with the call's values (a ``say`` line, the
    persona or task, a transfer target): what was meant is not said.

    Emitted in place of silence: the bridge logs it with the call id, ``voxflow chat`` shows it,
    a conversation test fails on it. The engine goes on as the flow says (a ``say`` line is
    skipped; instructions keep the template's source text).
    """

    node: str
    template: str
    error: str


Command = (
    Say
    | UpdateSession
    | Respond
    | CallTool
    | Transfer
    | End
    | SetOutcome
    | NodeEntered
    | TemplateFailed
)
