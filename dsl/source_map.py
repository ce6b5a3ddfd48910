"""Where the flow's text wrote each thing the IR holds: the builder fills it, the rules read it.

``dsl.build`` records the position of every node, transition, target and action under a path
such as ``("node", "greet", "on", 0)``, and every expression and template with the names it
may read, so a rule (``dsl.rules``) can point at the text of what it reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.ast import Pos
from dsl.expr import ExprNode

Path = tuple[object, ...]

_ORIGIN = Pos(1, 1)


@dataclass
class ExprSite:
    """An expression as written: parsed node, where it starts, and extra names it may read."""

    node: ExprNode
    pos: Pos
    where: str
    extra: dict[str, str] = field(default_factory=dict)
    """Name → type name, on top of the agent's scope (``value`` inside a slot validation)."""
    condition: bool = False


@dataclass
class TemplateSite:
    src: str
    pos: Pos
    where: str
    extra: dict[str, str] = field(default_factory=dict)
    tool: str | None = None
    """Set for an HTTP tool's url/header/body: its params and ``env`` are readable."""


@dataclass
class SourceMap:
    positions: dict[Path, Pos] = field(default_factory=dict)
    exprs: list[ExprSite] = field(default_factory=list)
    templates: list[TemplateSite] = field(default_factory=list)

    def at(self, path: Path, default: Pos | None = None) -> Pos:
        return self.positions.get(path, default or _ORIGIN)
