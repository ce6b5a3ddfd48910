"""The flow graph as a heat map of real calls: per node and per transition, from stored calls.

Pure: :func:`heat_map` folds :class:`CallTrace` values (what ``runtime.db.heatmap`` reads from
the ``calls`` table) into a :class:`HeatMap`; the API serves it and the studio draws it.

What each number means (docs/heatmap.md says the same for designers):

* ``visits``: entries into the node (a node entered twice in one call counts twice);
  ``calls``: calls that entered it at least once.
* ``transitions``: how often the call went from one node to the next, in the order the node
  path holds, whatever led there (an intent, a condition, a global transition, the fallback).
* ``drop_offs``: calls in which the caller hung up while in the node (the call's last node,
  when the callee ended it); ``drop_off_rate`` divides them by ``calls``.
* ``no_matches``, ``silences``, ``reprompts``: answers that matched nothing, silences the
  node reacted to, and times the agent asked again there; their rates divide by ``visits``.
* ``mean_ms``: the mean stay in the node over the visits whose time is known.

Calls stored before migration 0008 have a node path but no visits: they count in
``visits``, ``calls``, ``transitions`` and ``drop_offs`` (a hang-up then reads from the
outcome ``hung_up``), not in the per-visit counters or times.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dsl.outcomes import BuiltinOutcome
from runtime.call.result import TimedVisit

CALLER = "caller"
"""``calls.ended_by`` of a call the callee hung up."""


@dataclass(frozen=True)
class CallTrace:
    """What the heat map reads from one stored call."""

    node_path: Sequence[str]
    visits: Sequence[TimedVisit] = ()
    """Empty for calls stored before migration 0008."""
    outcome: str | None = None
    ended_by: str | None = None

    @property
    def path(self) -> list[str]:
        """The nodes entered, in order: from the visits when stored, else the node path."""
        return [v.node for v in self.visits] if self.visits else list(self.node_path)

    @property
    def caller_hung_up(self) -> bool:
        if self.ended_by is not None:
            return self.ended_by == CALLER
        return self.outcome == BuiltinOutcome.HUNG_UP.value


@dataclass
class NodeHeat:
    node: str
    visits: int = 0
    calls: int = 0
    drop_offs: int = 0
    no_matches: int = 0
    silences: int = 0
    reprompts: int = 0
    timed_visits: int = 0
    total_ms: int = 0

    @property
    def drop_off_rate(self) -> float:
        return _rate(self.drop_offs, self.calls)

    @property
    def no_match_rate(self) -> float:
        return _rate(self.no_matches, self.visits)

    @property
    def reprompt_rate(self) -> float:
        return _rate(self.reprompts, self.visits)

    @property
    def mean_ms(self) -> float | None:
        return self.total_ms / self.timed_visits if self.timed_visits else None


@dataclass(frozen=True)
class EdgeHeat:
    source: str
    target: str
    count: int


@dataclass
class HeatMap:
    calls: int = 0
    """Calls counted, with or without a node (a call that never reached the flow has none)."""
    answered: int = 0
    """Calls that entered at least one node."""
    nodes: dict[str, NodeHeat] = field(default_factory=dict)
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def edges(self) -> list[EdgeHeat]:
        """Transitions taken, most taken first (ties in name order)."""
        return [
            EdgeHeat(a, b, n)
            for (a, b), n in sorted(self.transitions.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    def node(self, name: str) -> NodeHeat:
        """The node's numbers (zeros for a node no counted call entered)."""
        return self.nodes.get(name) or NodeHeat(name)

    def add(self, call: CallTrace) -> None:
        """Count one call."""
        self.calls += 1
        path = call.path
        if not path:
            return
        self.answered += 1
        for name in set(path):
            self._node(name).calls += 1
        for name in path:
            self._node(name).visits += 1
        for visit in call.visits:
            heat = self._node(visit.node)
            heat.no_matches += visit.no_matches
            heat.silences += visit.silences
            heat.reprompts += visit.reprompts
            if visit.ms is not None:
                heat.timed_visits += 1
                heat.total_ms += visit.ms
        self.transitions.update(zip(path, path[1:], strict=False))
        if call.caller_hung_up:
            self._node(path[-1]).drop_offs += 1

    def _node(self, name: str) -> NodeHeat:
        heat = self.nodes.get(name)
        if heat is None:
            heat = self.nodes[name] = NodeHeat(name)
        return heat


def heat_map(calls: Iterable[CallTrace]) -> HeatMap:
    """The heat map of ``calls``."""
    out = HeatMap()
    for call in calls:
        out.add(call)
    return out


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
