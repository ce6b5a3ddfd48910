"""What every rule reads: the IR, the source map, and helpers to walk actions/transitions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dsl import ir
from dsl.ast import Pos
from dsl.build import Path, SourceMap
from dsl.diagnostics import Diagnostic, Severity
from dsl.outcomes import BUILTIN_OUTCOMES, TELEPHONY_OUTCOMES


@dataclass
class RuleContext:
    flow: ir.Flow
    source_map: SourceMap
    file: str

    @property
    def agent(self) -> ir.Agent:
        return self.flow.agent

    def at(self, path: Path, fallback: Path = ("agent",)) -> Pos:
        return self.source_map.positions.get(path) or self.source_map.at(fallback)

    def error(self, pos: Pos, code: str, message: str, hint: str) -> Diagnostic:
        return Diagnostic(self.file, pos.line, pos.col, code, message, hint)

    def warning(self, pos: Pos, code: str, message: str, hint: str) -> Diagnostic:
        return Diagnostic(self.file, pos.line, pos.col, code, message, hint, Severity.WARNING)

    def node_names(self) -> set[str]:
        return {n.name for n in self.agent.nodes}

    def known_outcomes(self) -> set[str]:
        return set(self.agent.outcomes) | TELEPHONY_OUTCOMES | BUILTIN_OUTCOMES

    def transitions(self) -> Iterator[tuple[Path, ir.Node | None, object]]:
        """Every transition with its source path, node transitions first, then global ones."""
        for node in self.agent.nodes:
            for i, t in enumerate(node.transitions):
                yield ("node", node.name, "tr", i), node, t
        for i, t in enumerate(self.agent.global_transitions):
            yield ("global", "tr", i), None, t

    def actions(self) -> Iterator[tuple[Path, object]]:
        """Every action (entry actions and transition actions) with its source path."""
        for node in self.agent.nodes:
            for k, a in enumerate(node.on_enter):
                yield ("node", node.name, "enter", k), a
        for path, _, t in self.transitions():
            for k, a in enumerate(t.actions):
                yield path + ("do", k), a
