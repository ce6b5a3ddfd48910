"""One model turn in text: what a text provider is asked (``TurnRequest``) and what it answers
(``ProviderTurn``), and the one function that builds the request from the engine's state.

Every driver that asks a model for a turn in text (the text session of ``voxflow chat``, the
conversation tests and the studio's chat; the local provider's voice adapter) builds the
request with :func:`turn_request`, so all of them offer the model the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from dsl.ir import IntentTransition, Slot
from runtime.engine.engine import Engine
from runtime.engine.events import ToolSpec, TransitionCalled


@dataclass(frozen=True)
class TurnRequest:
    """What a text provider gets for one model turn."""

    instructions: str
    tools: tuple[ToolSpec, ...]
    text: str | None
    """The caller's words; None when the engine asked the model to respond on its own."""
    intents: tuple[IntentTransition, ...] = ()
    missing: tuple[Slot, ...] = ()
    """Slots of the node still to collect, in order."""
    collect: tuple[Slot, ...] = ()
    say: tuple[str, ...] = ()
    """The node's rendered ``say`` lines (a local provider may repeat them)."""
    tool_result: Any = None
    """The last tool result, when this turn follows one."""
    history: tuple[tuple[str, str], ...] = ()
    """``(role, text)`` of the call so far."""
    tz: str = "UTC"
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    clarifying: tuple[str, ...] = ()
    """The intents a clarifying question just offered, best first: the words answer it."""


@dataclass(frozen=True)
class ProviderTurn:
    """The model's side of a turn: function calls (in order), then optional reply text."""

    calls: tuple[TransitionCalled, ...] = ()
    reply: str | None = None
    explanation: str = ""
    """Why (the local provider's scores); shown by ``voxflow chat``."""


class TextProvider(Protocol):
    async def turn(self, request: TurnRequest) -> ProviderTurn: ...


def turn_request(
    engine: Engine, text: str | None, *, tool_result: Any = None, now: datetime
) -> TurnRequest:
    """The request for the model's turn in the engine's current node.

    Args:
        text: the caller's words; ``None`` when the engine asked the model to go on.
        tool_result: the last tool result, given only when ``text`` is ``None``.
        now: the driver's clock.
    """
    session = engine.session()
    node = engine.node
    return TurnRequest(
        instructions=session.instructions,
        tools=session.tools,
        text=text,
        intents=engine.intents(),
        missing=engine.missing_slots(),
        collect=node.collect,
        say=engine.say_lines(),
        tool_result=tool_result if text is None else None,
        history=tuple(
            (t["role"], t["text"])
            for t in engine.state.transcript
            if t["role"] in ("caller", "agent")
        ),
        tz=engine.tz,
        now=now,
        clarifying=tuple(engine.state.clarifying),
    )
