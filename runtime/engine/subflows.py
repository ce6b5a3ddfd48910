"""Sub-flows at run time: calling one, returning from it, resuming an interrupted node.

A mixin of :class:`runtime.engine.engine.Engine`. A call pushes a ``Frame`` (where the caller
continues, its slots meanwhile) and enters the sub-flow's start with empty slots; ``return``
pops it, binds the results to the call's ``into`` and enters ``then``, or resumes the node a
digression interrupted (``Frame.resume``): its entry does not run again. ``Engine._enter``
drops the frames of sub-flows a transition leaves without returning.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from dsl.ir import Agent, Node, ReturnAction, SubFlow, SubFlowCall
from runtime.engine import values as V
from runtime.engine.events import Command, NodeEntered
from runtime.engine.state import EngineState, Frame, NodeVisit


class SubFlows:
    """Calling and leaving sub-flows; the state it reads and writes is the engine's."""

    state: EngineState
    agent: Agent
    node: Node
    _subflows: Mapping[str, SubFlow]
    _agenda: deque[tuple[str, Any]]
    _out: list[Command]
    _stay_fired: set[int]

    def _call_subflow(self, a: SubFlowCall) -> None:
        """Enter sub-flow ``a.flow`` with its arguments; its slots start empty."""
        s = self.state
        try:
            params = {k: self._eval(v.src) for k, v in a.args}
        except Exception as exc:
            self._error(f"arguments of sub-flow {a.flow} failed: {exc}")
            self._stuck(f"sub-flow {a.flow} could not be called")
            return
        flow = self._subflows[a.flow]
        running = next((i for i, f in enumerate(s.frames) if f.flow == a.flow), None)
        if running is not None:
            # Called again while it runs (a global digression inside itself): start it over
            # with the new arguments; its caller stays the first one, so frames never pile up.
            while len(s.frames) > running + 1:
                s.frames.pop()
            s.frames[running].params = params
            s.slots, s.filled_at = {}, {}
            s.note("event", f"restart sub-flow {a.flow}", arguments=V.jsonable(params))
            self._enter(flow.start, f"call:{a.flow}")
            return
        then, resume = (a.then, False) if a.then is not None else (s.node or "", True)
        s.frames.append(Frame(a.flow, then, a.into, params, s.slots, resume, s.filled_at))
        s.slots, s.filled_at = {}, {}
        s.note("event", f"call sub-flow {a.flow}", arguments=V.jsonable(params))
        self._enter(flow.start, f"call:{a.flow}")

    def _return(self, a: ReturnAction) -> None:
        """Leave the running sub-flow with its results, back to its caller's ``then``."""
        s = self.state
        if not s.frames:
            self._error("return outside a sub-flow")
            self._stuck("return outside a sub-flow")
            return
        try:
            results = {k: self._eval(v.src) for k, v in a.values}
        except Exception as exc:
            self._error(f"return values of {s.frames[-1].flow} failed: {exc}")
            results = {}
        frame = s.frames.pop()
        s.slots, s.filled_at = frame.caller_slots, frame.caller_filled
        if frame.into:
            s.results[frame.into] = results
        s.note("event", f"return from sub-flow {frame.flow}", results=V.jsonable(results))
        if frame.resume:
            self._resume(frame.then, f"return:{frame.flow}")
        else:
            self._enter(frame.then, f"return:{frame.flow}")

    def _resume(self, target: str, via: str) -> None:
        """Back in a node a digression interrupted: its entry does not run again; settling
        asks its missing slot again (or lets the model go on)."""
        s = self.state
        self._agenda.clear()
        s.node = target
        s.path.append(target)
        self._stay_fired.clear()
        s.awaiting_reply_since = None
        s.clarifying = {}
        s.last_input_at = s.now
        s.note("event", f"resumed {target}", via=via)
        s.trail.append(NodeVisit(target, via))
        self._out.append(NodeEntered(target, via))
        self._out.append(self._session(self.node))
        self._agenda.append(("settle", True))
