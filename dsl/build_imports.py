"""Reading ``import <flow>, ... from "<file>"``: sub-flows of another flow file.

A mixin of ``dsl.build``'s builder. The other file is compiled on its own (its problems are
reported against the import, with the first of them quoted); the imported sub-flows come as
IR, with the sub-flows they call, and join this agent's sub-flows. A sub-flow reads only what
it is passed, so what was checked in its own file holds here; the rules of this file still
check every call of it and every outcome, tool and target its nodes use, pointing at the
import line.
"""

from __future__ import annotations

import difflib
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path

from dsl import ir
from dsl.ast import Map, Pos, Scalar, Value
from dsl.reader import Reader
from dsl.source_map import SourceMap

_FLOW_SUFFIXES = (".flow", ".flow.yaml", ".flow.yml")

_IMPORTING: ContextVar[tuple[str, ...]] = ContextVar("voxflow_importing", default=())
"""Files being compiled for an import, outermost first (an import cycle is an error)."""


class ImportReader:
    r: Reader
    map: SourceMap
    file: str

    def imports(self, v: Value | None) -> tuple[list[ir.SubFlow], list[ir.Node]]:
        if v is None:
            return [], []
        if not isinstance(v, Map):
            self.r.wrong(v, "imports", 'a mapping of "file": [sub-flow names]')
            return [], []
        flows: dict[str, ir.SubFlow] = {}
        nodes: dict[str, list[ir.Node]] = {}
        for key, names in self.r.names(v, "imported file"):
            wanted = self.r.strings(names, "imported sub-flows")
            other = self._compile_import(key)
            if other is None:
                continue
            available = {f.name: f for f in other.agent.subflows}
            for name in wanted:
                if name.raw not in available:
                    close = difflib.get_close_matches(name.raw, list(available), n=1)
                    self.r.report(
                        name.pos,
                        "VF415",
                        f"{key.raw} has no sub-flow {name.raw!r}",
                        f"did you mean {close[0]!r}?"
                        if close
                        else f"its sub-flows: {', '.join(available) or 'none'}",
                    )
                    continue
                for f in _with_callees(other.agent, available[name.raw]):
                    if f.name in flows:
                        continue
                    flows[f.name] = replace(f, source=key.raw)
                    nodes[f.name] = [n for n in other.agent.nodes if f.owns(n.name)]
                    self._mark_imported(f, nodes[f.name], name.pos)
        # By name: the IR does not depend on the order the imports were written in.
        order = sorted(flows)
        return [flows[n] for n in order], [node for n in order for node in nodes[n]]

    def _compile_import(self, key: Scalar) -> ir.Flow | None:
        from dsl.compiler import compile_file

        if not self.file or self.file.startswith("<"):
            # Text without a file (an API upload): an import would read the server's disk.
            self.r.report(
                key.pos,
                "VF414",
                "imports need the flow to be a file: this text has no folder to import from",
                "write the sub-flow in this flow (flow <name>(...)), or compile the file",
            )
            return None
        if Path(key.raw).is_absolute() or not key.raw.endswith(_FLOW_SUFFIXES):
            self.r.report(
                key.pos,
                "VF414",
                f"cannot import {key.raw!r}: only flow files, by a path relative to this file",
                'write e.g. import identity from "common/identity.flow"',
            )
            return None
        path = (Path(self.file).parent / key.raw).resolve()
        stack = _IMPORTING.get()
        if str(path) in stack or str(Path(self.file).resolve()) == str(path):
            self.r.report(
                key.pos,
                "VF414",
                f"import cycle: {key.raw} imports this file back",
                "move the shared sub-flows into a file that imports nothing",
            )
            return None
        token = _IMPORTING.set((*stack, str(Path(self.file).resolve()), str(path)))
        try:
            result = compile_file(path)
        finally:
            _IMPORTING.reset(token)
        if result.flow is None:
            first = result.errors[0].headline() if result.errors else f"cannot read {path}"
            self.r.report(
                key.pos,
                "VF414",
                f"cannot import from {key.raw}: {first}",
                "fix that file first (voxflow check), or correct the path (relative to this file)",
            )
            return None
        return result.flow

    def _mark_imported(self, f: ir.SubFlow, nodes: list[ir.Node], pos: Pos) -> None:
        """Point every place of the imported nodes at the import line."""
        at = self.map.positions
        at.setdefault(("flow", f.name), pos)
        at.setdefault(("flow", f.name, "start"), pos)
        for n in nodes:
            at[("node", n.name)] = pos
            for k, a in enumerate(n.on_enter):
                _mark_action(at, ("node", n.name, "enter", k), a, pos)
            for i, t in enumerate(n.transitions):
                base = ("node", n.name, "tr", i)
                at[base] = at[base + ("to",)] = pos
                for k, a in enumerate(t.actions):
                    _mark_action(at, base + ("do", k), a, pos)
            for j, _ in enumerate(n.tools):
                at[("node", n.name, "tool", j)] = pos


def _mark_action(at: dict, path: tuple, a: ir.Action, pos: Pos) -> None:
    at[path] = at[path + ("to",)] = pos
    for name, _ in getattr(a, "args", ()) or getattr(a, "values", ()):
        at[path + ("arg", name)] = pos


def _with_callees(agent: ir.Agent, first: ir.SubFlow) -> list[ir.SubFlow]:
    """``first`` and every sub-flow it calls, directly or not, in that file."""
    by_name = {f.name: f for f in agent.subflows}
    out, todo = [], [first]
    while todo:
        f = todo.pop()
        if f in out:
            continue
        out.append(f)
        for n in agent.nodes:
            if f.owns(n.name):
                acts = [*n.on_enter, *(a for t in n.transitions for a in t.actions)]
                todo.extend(
                    by_name[a.flow]
                    for a in acts
                    if isinstance(a, ir.SubFlowCall) and a.flow in by_name
                )
    return out
