"""Build the IR from the located document tree (the same tree for both syntaxes).

Every value is read through ``dsl.reader.Reader`` so a wrong shape becomes a diagnostic and
building carries on. Alongside the IR, ``build`` returns a ``SourceMap``: where each node,
transition, target, action and expression was written, which the graph rules (``dsl.rules``)
use to point at the text. Expressions are parsed here and stored in canonical form, so both
syntaxes give the same IR bytes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dsl import ir
from dsl.ast import Map, Scalar, Value
from dsl.build_campaign import CampaignReader
from dsl.build_imports import ImportReader
from dsl.build_nodes import NodeReader
from dsl.build_tools import ToolReader
from dsl.expr import ExprSyntaxError, canonical, parse_expr
from dsl.reader import Reader
from dsl.source_map import ExprSite, Path, SourceMap, TemplateSite
from dsl.types import parse_type

__all__ = ["BuildResult", "ExprSite", "Path", "SourceMap", "TemplateSite", "build"]


@dataclass
class BuildResult:
    flow: ir.Flow | None
    source_map: SourceMap
    diagnostics: list


def build(doc: Value, file: str) -> BuildResult:
    """Read the document tree into an ``ir.Flow`` and its source map, reporting all problems."""
    b = _Builder(file)
    flow = b.document(doc)
    return BuildResult(flow, b.map, b.r.diagnostics)


class _Builder(ToolReader, NodeReader, CampaignReader, ImportReader):
    def __init__(self, file: str):
        self.r = Reader(file)
        self.file = file
        self.map = SourceMap()
        self._canonical: dict[str, str] = {}

    def mark(self, path: Path, value: Value | Scalar | None) -> None:
        if value is not None:
            self.map.positions[path] = value.pos

    # --- document ---------------------------------------------------------------------------
    def document(self, doc: Value) -> ir.Flow | None:
        top = self.r.mapping(
            doc, "the flow file", allowed=("agent", "campaign"), required=("agent",)
        )
        if top is None:
            return None
        agent = self.agent(top.get("agent"))
        campaign_v = top.get("campaign")
        campaign = self.campaign(campaign_v) if campaign_v is not None else None
        if agent is None:
            return None
        return ir.Flow(agent=agent, campaign=campaign)

    def agent(self, v: Value | None) -> ir.Agent | None:
        keys = (
            "name", "persona", "timezone", "context", "variables", "outcomes", "start",
            "fallback", "provider", "knowledge", "tools", "global", "nodes", "flows", "imports",
            "on_change",
        )  # fmt: skip
        m = self.r.mapping(v, "agent", allowed=keys, required=("name", "persona", "nodes"))
        if m is None:
            return None
        self.mark(("agent",), m)
        name = self.r.name(m.get("name"), "agent name")
        persona = self.template(m.get("persona"), "persona")
        tz = self.timezone(m.get("timezone"), "agent timezone")
        ctx = self.r.mapping(m.get("context"), "context", allowed=("contact", "campaign"))
        contact = self.fields(ctx.get("contact") if ctx else None, "context field", "contact")
        camp = self.fields(ctx.get("campaign") if ctx else None, "context field", "campaign")
        variables = self.fields(m.get("variables"), "variable", "vars")
        outcomes = []
        for s in self.r.strings(m.get("outcomes"), "outcomes"):
            if not s.raw.isidentifier():
                self.r.report(
                    s.pos, "VF202", f"outcome {s.raw!r} must be a name", "use letters, digits and _"
                )
                continue
            if s.raw in outcomes:
                self.r.report(s.pos, "VF211", f"outcome {s.raw!r} is listed twice", "list it once")
                continue
            self.mark(("outcome", s.raw), s)
            outcomes.append(s.raw)
        tools = self.tools(m.get("tools"))
        knowledge = self.knowledge(m.get("knowledge"))
        if knowledge is not None:
            tools.append(knowledge)
        # Before the nodes: a node's turn detection builds on the agent's.
        provider = self.agent_provider = self.provider(m.get("provider"))
        imported, imported_nodes = self.imports(m.get("imports"))
        flows_v = m.get("flows")
        names = {f.name for f in imported}
        if isinstance(flows_v, Map):
            names |= {k.raw for k, _ in flows_v.entries}
        self.subflow_names = frozenset(names)
        subflows, subflow_nodes = self.subflows(flows_v)
        for f in subflows:
            if f.name in {g.name for g in imported}:
                self.r.report(
                    self.map.at(("flow", f.name)),
                    "VF211",
                    f"sub-flow {f.name!r} is both imported and declared here",
                    "rename one of them",
                )
        subflows = imported + [f for f in subflows if f.name not in {g.name for g in imported}]
        subflow_nodes = imported_nodes + [
            n for n in subflow_nodes if not any(g.owns(n.name) for g in imported)
        ]
        # After the sub-flows: a global transition may call one (a digression).
        global_tr = self.transitions(m.get("global"), ("global",), "global transitions")
        nodes = self.nodes(m.get("nodes"))
        start = self.r.name(m.get("start"), "start")
        self.mark(("start",), m.get("start") or m.key("nodes") or m)
        if start is None and nodes:
            start = nodes[0].name
        fallback = self.r.name(m.get("fallback"), "fallback")
        self.mark(("fallback",), m.get("fallback"))
        if name is None or persona is None or start is None:
            return None
        return ir.Agent(
            name=name,
            persona=persona,
            start=start,
            nodes=tuple(nodes + subflow_nodes),
            context=tuple(contact),
            campaign_context=tuple(camp),
            variables=tuple(variables),
            outcomes=tuple(outcomes),
            tools=tuple(tools),
            global_transitions=tuple(global_tr),
            fallback=fallback,
            provider=provider,
            timezone=tz or "UTC",
            subflows=tuple(subflows),
            on_change=self.on_change(m.get("on_change")) or "rerun",
        )

    # --- values with meaning ---------------------------------------------------------------------
    def template(self, v: Value | None, where: str, **site) -> ir.Template | None:
        s = self.r.string(v, where)
        if s is None:
            return None
        assert isinstance(v, Scalar)
        self.map.templates.append(TemplateSite(s, v.text_pos, where, **site))
        return ir.Template(s)

    def expr(
        self, v: Value | None, where: str, *, condition: bool = False, extra=None
    ) -> ir.Expr | None:
        if v is None:
            return None
        if isinstance(v, Scalar) and v.tag in ("int", "float", "bool") and not condition:
            text = v.raw.lower() if v.tag == "bool" else v.raw
        else:
            text = self.r.string(v, where)
        if text is None:
            return None
        assert isinstance(v, Scalar)
        try:
            node = parse_expr(text, file=self.file, line=v.text_pos.line, col=v.text_pos.col)
        except ExprSyntaxError as e:
            self.r.diagnostics.append(e.diagnostic)
            return ir.Expr(text.strip())
        except (RecursionError, ValueError) as e:
            self.r.report(
                v.text_pos, "VF110", f"cannot read expression: {e}", "simplify the expression"
            )
            return ir.Expr(text.strip())
        self.map.exprs.append(ExprSite(node, v.text_pos, where, extra or {}, condition))
        # The canonical form leaves positions out: the same text always prints the same.
        canon = self._canonical.get(text)
        if canon is None:
            canon = self._canonical[text] = canonical(node)
        return ir.Expr(canon)

    def type_name(self, v: Value | None, where: str) -> tuple[str, bool] | None:
        """A type spelling (``str``, ``tz?``) → canonical type name and whether it is required."""
        s = self.r.string(v, where)
        if s is None:
            return None
        required = not s.endswith("?")
        try:
            t = parse_type(s[:-1] if not required else s)
        except ValueError as e:
            self.r.report(v.pos, "VF305", str(e), "use one of the types of dsl.types")
            return None
        return str(t), required

    def field_def(self, key: Scalar, v: Value, where: str, path: Path) -> ir.Field | None:
        if not key.raw.isidentifier():
            self.r.report(
                key.pos,
                "VF202",
                f"{where} name {key.raw!r} is not a name",
                "use letters, digits and _",
            )
            return None
        self.mark(path, key)
        if isinstance(v, Map):
            m = self.r.mapping(
                v,
                f"{where} {key.raw!r}",
                allowed=("type", "required", "description", "default"),
                required=("type",),
            )
            spec = self.type_name(m.get("type"), "type")
            if spec is None:
                return None
            req = self.r.boolean(m.get("required"), "required")
            desc = self.r.string(m.get("description"), "description") or ""
            default = self.expr(m.get("default"), "default")
            return ir.Field(
                key.raw, spec[0], spec[1] if req is None else (req and spec[1]), desc, default
            )
        spec = self.type_name(v, f"type of {where} {key.raw!r}")
        if spec is None:
            return None
        return ir.Field(key.raw, spec[0], spec[1])

    def fields(self, v: Value | None, where: str, ns: str) -> list[ir.Field]:
        if v is None:
            return []
        if not isinstance(v, Map):
            self.r.wrong(v, where + "s", "a mapping of name: type")
            return []
        out = []
        for k, val in self.r.names(v, where):
            f = self.field_def(k, val, where, ("field", ns, k.raw))
            if f is not None:
                out.append(f)
        return out

    def timezone(self, v: Value | None, where: str) -> str | None:
        s = self.r.string(v, where)
        if s is None:
            return None
        try:
            ZoneInfo(s)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # OSError: a key naming a directory of the tz database ("America", IsADirectoryError)
            # or too long a path for the file system.
            self.r.report(v.pos, "VF503", f"unknown time zone {s!r}", timezone_hint(s))
            return None
        return s


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Every IANA zone name, by its lower-case spelling."""
    return {z.lower(): z for z in available_timezones()}


def timezone_hint(name: str) -> str:
    """ "did you mean" the closest IANA zone name (case, typos), else how to write one."""
    zones = _zones()
    key = name.strip().lower().replace(" ", "_")
    exact = zones.get(key)
    close = [exact] if exact else difflib.get_close_matches(key, list(zones), n=1, cutoff=0.75)
    if close:
        return f"did you mean {zones.get(close[0], close[0])!r}?"
    return "use an IANA name such as Europe/Paris"
