"""A call of a flow in text: the driver of ``voxflow chat``, the conversation tests and the
studio's test chat.

``TextSession`` feeds the engine caller text, keys and silences, asks the text provider for the
model's side of each turn, runs the tools the engine asks for, and reports what happened as a
``Step``. Time is a virtual clock: it starts at the engine's ``now`` and moves forward only with
silences and ``tick``; that keeps conversation tests deterministic. It is assembled, like a
live call, by ``runtime.call.assemble``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from runtime.engine.engine import Engine
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
    TemplateFailed,
    Tick,
    ToolResult,
    Transfer,
    TransitionCalled,
    UpdateSession,
)
from runtime.engine.state import EngineState
from runtime.engine.turn import ProviderTurn, TextProvider, TurnRequest, turn_request
from runtime.tools.runner import ToolRunner

MAX_CHAIN = 8
"""Model turns chained without caller input (tool call -> reply -> tool call...) before we stop."""


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
    template_errors: list[TemplateFailed] = field(default_factory=list)
    """Templates of the flow that did not render during this step (the engine reported them)."""


class TextSession:
    """One call of a flow in text. Build it with ``runtime.call.assemble.text_call``.

    Args:
        engine: the call's engine (``start`` not called yet); its ``now`` starts the clock.
        tools: runs the engine's ``CallTool`` commands.
        provider: plays the model's side of each turn.
        canned: tool name -> result given instead of running the tool (conversation tests); a
            mapping with only ``error`` makes the call fail with that error.
    """

    def __init__(
        self,
        engine: Engine,
        tools: ToolRunner,
        provider: TextProvider,
        *,
        canned: Mapping[str, object] | None = None,
    ) -> None:
        self.engine = engine
        self.runner = tools
        self.provider = provider
        self.now = engine.state.now
        self.canned = dict(canned or {})
        self._last_tool_result: object = None

    @property
    def state(self) -> EngineState:
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
            turn = await self.provider.turn(await self._request(text, step))
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
                turn = await self.provider.turn(await self._request(None, step))
                await self._apply(turn, step, depth=depth + 1)
            elif isinstance(command, Transfer):
                step.transfer_to = command.to
            elif isinstance(command, TemplateFailed):
                step.template_errors.append(command)
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

    async def _request(self, text: str | None, step: Step) -> TurnRequest:
        result, self._last_tool_result = self._last_tool_result, None
        request = turn_request(self.engine, text, tool_result=result, now=self.now)
        # A say line that did not render while building the request is reported now.
        await self._drive(self.engine.flush(), step)
        return request

    def _finish(self, step: Step) -> Step:
        s = self.engine.state
        step.slots = dict(s.slots)
        step.node = s.node
        step.outcome = s.outcome
        step.ended = s.ended
        return step
