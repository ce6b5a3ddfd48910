"""A text-level driver: runs Engine + ToolRunner + a ``TextProvider`` for chat, tests, studio.

``TextSession`` feeds the engine caller text, keys and silences, asks the provider for the
model's side of each turn, runs the tools the engine asks for, and reports what happened as a
``Step``. Time is a virtual clock: it starts at ``now`` and moves forward only with silences
and ``tick``; that keeps conversation tests deterministic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from dsl.ir import Flow, IntentTransition, Slot
from runtime.engine.engine import Engine, Limits
from runtime.engine.events import (
    AgentSaid,
    CallerSaid,
    CallTool,
    Command,
    DtmfPressed,
    End,
    Event,
    HungUp,
    NodeEntered,
    Respond,
    Say,
    Silence,
    SpeechFinished,
    Tick,
    ToolResult,
    ToolSpec,
    Transfer,
    TransitionCalled,
    UpdateSession,
)
from runtime.knowledge import KnowledgeBase
from runtime.persistence import InMemoryPersistence, Persistence
from runtime.tools.runner import ToolRunner

MAX_CHAIN = 8
"""Model turns chained without caller input (tool call -> reply -> tool call...) before we stop."""


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


@dataclass(frozen=True)
class ProviderTurn:
    """The model's side of a turn: function calls (in order), then optional reply text."""

    calls: tuple[TransitionCalled, ...] = ()
    reply: str | None = None
    explanation: str = ""
    """Why (the local provider's scores); shown by ``voxflow chat``."""


class TextProvider(Protocol):
    async def turn(self, request: TurnRequest) -> ProviderTurn: ...


@dataclass
class Step:
    """What happened in response to one driver call."""

    said: list[str] = field(default_factory=list)
    """Everything the agent said, in order: ``Say`` lines and model replies."""
    replies: list[str] = field(default_factory=list)
    """The model's own replies among ``said``."""
    nodes: list[str] = field(default_factory=list)
    tool_calls: list[CallTool] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)
    transitions: list[TransitionCalled] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    node: str | None = None
    outcome: str | None = None
    ended: bool = False
    transfer_to: str | None = None


class TextSession:
    def __init__(
        self,
        flow: Flow,
        *,
        provider: TextProvider,
        contact: Mapping[str, Any] | None = None,
        campaign: Mapping[str, Any] | None = None,
        call_id: str = "chat",
        now: datetime | None = None,
        tz: str | None = None,
        persistence: Persistence | None = None,
        knowledge: KnowledgeBase | None = None,
        closed_dates: tuple[str, ...] = (),
        limits: Limits | None = None,
        environ: Mapping[str, str] | None = None,
        canned: Mapping[str, Any] | None = None,
    ) -> None:
        self.now = now or datetime.now(UTC)
        self.provider = provider
        self.persistence = persistence or InMemoryPersistence()
        self.engine = Engine(
            flow,
            contact=contact or {},
            call_id=call_id,
            now=self.now,
            campaign=campaign,
            tz=tz,
            limits=limits,
        )
        self.runner = ToolRunner(
            flow,
            call_id=call_id,
            contact=self.engine.contact,
            tz=self.engine.tz,
            persistence=self.persistence,
            campaign=self.engine.campaign,
            knowledge=knowledge,
            closed_dates=closed_dates,
            environ=environ,
        )
        self._last_tool_result: Any = None
        self.canned = dict(canned or {})
        """Tool name -> result given instead of running the tool (conversation tests); a
        mapping with only ``error`` makes the call fail with that error."""

    @property
    def state(self):
        return self.engine.state

    async def start(self, node: str | None = None) -> Step:
        """Begin the call at the flow's start node, or at ``node``."""
        step = Step()
        await self._drive(self.engine.start(node), step)
        return self._finish(step)

    async def caller_says(self, text: str) -> Step:
        step = Step()
        await self._feed(CallerSaid(text), step)
        if not self.engine.state.ended:
            turn = await self.provider.turn(self._request(text))
            await self._apply(turn, step, depth=0)
        return self._finish(step)

    async def press(self, digits: str) -> Step:
        step = Step()
        for digit in digits:
            if self.engine.state.ended:
                break
            await self._feed(DtmfPressed(digit), step)
        return self._finish(step)

    async def silence(self, ms: int) -> Step:
        step = Step()
        self.now += timedelta(milliseconds=ms)
        await self._feed(Silence(ms), step)
        if not self.engine.state.ended:
            await self._feed(Tick(self.now), step)
        return self._finish(step)

    async def tick(self, now: datetime) -> Step:
        step = Step()
        self.now = now
        await self._feed(Tick(now), step)
        return self._finish(step)

    async def hang_up(self) -> Step:
        step = Step()
        await self._feed(HungUp(), step)
        return self._finish(step)

    # --- internals -------------------------------------------------------------------------

    async def _feed(self, event: Event, step: Step) -> None:
        await self._drive(self.engine.handle(event), step)

    async def _drive(self, commands: list[Command], step: Step, depth: int = 0) -> None:
        queue = deque(commands)
        while queue:
            command = queue.popleft()
            step.commands.append(command)
            if isinstance(command, Say):
                step.said.append(command.text)
            elif isinstance(command, NodeEntered):
                step.nodes.append(command.name)
            elif isinstance(command, CallTool):
                step.tool_calls.append(command)
                result = await self._run_tool(command)
                step.tool_results.append(result)
                self._last_tool_result = result.result if result.ok else {"error": result.error}
                queue.extend(self.engine.handle(result))
            elif isinstance(command, Respond) and depth < MAX_CHAIN:
                turn = await self.provider.turn(self._request(None))
                await self._apply(turn, step, depth=depth + 1)
            elif isinstance(command, Transfer):
                step.transfer_to = command.to
            elif isinstance(command, End | UpdateSession):
                pass
        if step.said and not self.engine.state.ended:
            # Text has no playout: what was queued is "spoken" at once.
            more = self.engine.handle(SpeechFinished())
            if more:
                await self._drive(more, step, depth)

    async def _run_tool(self, call: CallTool) -> ToolResult:
        if call.name in self.canned:
            value = self.canned[call.name]
            if isinstance(value, Mapping) and set(value) == {"error"}:
                return ToolResult(call.call_id, ok=False, error=str(value["error"]))
            return ToolResult(call.call_id, ok=True, result=value)
        return await self.runner.run(call, now=self.now, values=self.engine.values())

    async def _apply(self, turn: ProviderTurn, step: Step, *, depth: int) -> None:
        if turn.explanation:
            step.explanations.append(turn.explanation)
        for call in turn.calls:
            if self.engine.state.ended:
                return
            step.transitions.append(call)
            await self._drive(self.engine.handle(call), step, depth)
        if turn.reply and not self.engine.state.ended:
            step.said.append(turn.reply)
            step.replies.append(turn.reply)
            await self._drive(self.engine.handle(AgentSaid(turn.reply)), step, depth)

    def _request(self, text: str | None) -> TurnRequest:
        e = self.engine
        session = e.session()
        node = e.node
        say = []
        for t in node.say:
            try:
                say.append(e.render(t.src))
            except Exception:
                continue
        result, self._last_tool_result = self._last_tool_result, None
        return TurnRequest(
            instructions=session.instructions,
            tools=session.tools,
            text=text,
            intents=e.intents(),
            missing=e.missing_slots(),
            collect=node.collect,
            say=tuple(say),
            tool_result=result if text is None else None,
            history=tuple(
                (t["role"], t["text"])
                for t in e.state.transcript
                if t["role"] in ("caller", "agent")
            ),
            tz=e.tz,
            now=self.now,
        )

    def _finish(self, step: Step) -> Step:
        s = self.engine.state
        step.slots = dict(s.slots)
        step.node = s.node
        step.outcome = s.outcome
        step.ended = s.ended
        return step
