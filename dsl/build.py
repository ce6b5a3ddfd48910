"""Build the IR from the located document tree (the same tree for both syntaxes).

Every value is read through ``dsl.reader.Reader`` so a wrong shape becomes a diagnostic and
building carries on. Alongside the IR, ``build`` returns a ``SourceMap``: where each node,
transition, target, action and expression was written, which the graph rules (``dsl.rules``)
use to point at the text. Expressions are parsed here and stored in canonical form, so both
syntaxes give the same IR bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dsl import ir
from dsl.ast import Map, Pos, Scalar, Seq, Value
from dsl.build_campaign import CampaignReader
from dsl.expr import ExprNode, ExprSyntaxError, canonical, parse_expr
from dsl.reader import Reader
from dsl.types import parse_type

Path = tuple[object, ...]

_DTMF = re.compile(r"^([0-9*#]+|any)$")
_TRANSITION_KINDS = ("intent", "when", "dtmf", "silence", "no_match")
_ORIGIN = Pos(1, 1)
_TRANSITION_EXTRA = {
    "intent": ("description", "examples", "params"),
    "silence": ("reprompt", "max"),
    "no_match": ("reprompt", "max"),
}
_ACTION_KINDS = ("set", "call", "say", "outcome", "transfer", "end")


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


class _Builder(CampaignReader):
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
            "fallback", "provider", "knowledge", "tools", "global", "nodes",
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
        global_tr = self.transitions(m.get("global"), ("global",), "global transitions")
        nodes = self.nodes(m.get("nodes"))
        start = self.r.name(m.get("start"), "start")
        self.mark(("start",), m.get("start") or m.key("nodes") or m)
        if start is None and nodes:
            start = nodes[0].name
        fallback = self.r.name(m.get("fallback"), "fallback")
        self.mark(("fallback",), m.get("fallback"))
        provider = self.provider(m.get("provider"))
        if name is None or persona is None or start is None:
            return None
        return ir.Agent(
            name=name,
            persona=persona,
            start=start,
            nodes=tuple(nodes),
            context=tuple(contact),
            campaign_context=tuple(camp),
            variables=tuple(variables),
            outcomes=tuple(outcomes),
            tools=tuple(tools),
            global_transitions=tuple(global_tr),
            fallback=fallback,
            provider=provider,
            timezone=tz or "UTC",
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
            self.r.report(
                v.pos, "VF503", f"unknown time zone {s!r}", "use an IANA name such as Europe/Paris"
            )
            return None
        return s

    # --- provider, tools ---------------------------------------------------------------------------
    def provider(self, v: Value | None) -> ir.ProviderSettings:
        keys = (
            "voice",
            "language",
            "turn_detection",
            "vad_threshold",
            "silence",
            "fallback",
            "apology",
        )
        m = self.r.mapping(v, "provider", allowed=keys)
        if m is None:
            return ir.ProviderSettings()
        fallback = []
        for s in self.r.strings(m.get("fallback"), "provider fallback"):
            if s.raw not in ("openai", "ultravox", "local"):
                self.r.report(
                    s.pos, "VF202", f"unknown provider {s.raw!r}", "use openai, ultravox or local"
                )
            else:
                fallback.append(s.raw)
        threshold = self.r.number(m.get("vad_threshold"), "vad_threshold")
        return ir.ProviderSettings(
            voice=self.r.string(m.get("voice"), "voice"),
            language=self.r.string(m.get("language"), "language") or "en-US",
            turn_detection=self.r.choice(
                m.get("turn_detection"), "turn_detection", ("server_vad", "semantic_vad", "none")
            )
            or "server_vad",
            vad_threshold=threshold,
            silence_duration_ms=self.r.duration_ms(m.get("silence"), "silence"),
            fallback=tuple(fallback),
            apology=self.template(m.get("apology"), "apology"),
        )

    def knowledge(self, v: Value | None) -> ir.KnowledgeTool | None:
        if isinstance(v, Scalar) and v.tag == "str":
            return ir.KnowledgeTool(v.raw)
        m = self.r.mapping(
            v, "knowledge", allowed=("collection", "top_k"), required=("collection",)
        )
        if m is None:
            return None
        coll = self.r.string(m.get("collection"), "knowledge collection")
        top_k = self.r.integer(m.get("top_k"), "top_k", minimum=1)
        if coll is None:
            return None
        return ir.KnowledgeTool(coll, 3 if top_k is None else top_k)

    def tools(self, v: Value | None) -> list[ir.HttpTool]:
        if v is None:
            return []
        if not isinstance(v, Map):
            self.r.wrong(v, "tools", "a mapping of tool name: definition")
            return []
        out = []
        for k, val in self.r.names(v, "tool"):
            if k.raw in ir.BUILTIN_TOOLS:
                self.r.report(
                    k.pos,
                    "VF211",
                    f"tool {k.raw!r} is a built-in tool",
                    "give your tool another name",
                )
                continue
            tool = self.http_tool(k, val)
            if tool is not None:
                out.append(tool)
        return out

    def http_tool(self, key: Scalar, v: Value) -> ir.HttpTool | None:
        keys = (
            "method",
            "url",
            "description",
            "params",
            "headers",
            "body",
            "timeout",
            "retries",
            "response",
            "on_error",
        )
        m = self.r.mapping(v, f"tool {key.raw!r}", allowed=keys, required=("url",), at=key.pos)
        if m is None:
            return None
        self.mark(("tool", key.raw), key)
        params = self.fields(m.get("params"), "param", f"tool:{key.raw}")
        site = {"tool": key.raw, "extra": {p.name: p.type for p in params}}
        method = (
            self.r.choice(m.get("method"), "method", ("GET", "POST", "PUT", "PATCH", "DELETE"))
            or "GET"
        )
        url = self.template(m.get("url"), "url", **site)
        headers = []
        hm = m.get("headers")
        if hm is not None and not isinstance(hm, Map):
            self.r.wrong(hm, "headers", "a mapping of header: value")
        elif hm is not None:
            for hk, hv in self.r.names(hm, "header"):
                t = self.template(hv, f"header {hk.raw}", **site)
                if t is not None:
                    headers.append((hk.raw, t))
        response = []
        rm = m.get("response")
        if rm is not None and not isinstance(rm, Map):
            self.r.wrong(rm, "response", "a mapping of field: path")
        elif rm is not None:
            for rk, rv in self.r.names(rm, "response field"):
                path = self.r.string(rv, f"response field {rk.raw}")
                if path is not None:
                    response.append((rk.raw, path))
        on_error = self.r.name(m.get("on_error"), "on_error")
        self.mark(("tool", key.raw, "on_error"), m.get("on_error"))
        timeout = self.r.duration_ms(m.get("timeout"), "timeout")
        retries = self.r.integer(m.get("retries"), "retries")
        if url is None:
            return None
        return ir.HttpTool(
            name=key.raw,
            description=self.r.string(m.get("description"), "description") or "",
            method=method,
            url=url,
            params=tuple(params),
            headers=tuple(headers),
            body=self.template(m.get("body"), "body", **site),
            timeout_ms=5000 if timeout is None else timeout,
            retries=0 if retries is None else retries,
            response=tuple(response),
            on_error=on_error,
        )

    # --- nodes --------------------------------------------------------------------------------------
    def nodes(self, v: Value | None) -> list[ir.Node]:
        if v is None:
            return []
        if not isinstance(v, Map):
            self.r.wrong(v, "nodes", "a mapping of node name: node")
            return []
        out = []
        for k, val in self.r.names(v, "node", code="VF210"):
            if not k.raw.isidentifier():
                self.r.report(
                    k.pos,
                    "VF202",
                    f"node name {k.raw!r} is not a name",
                    "use letters, digits and _",
                )
                continue
            n = self.node(k, val)
            if n is not None:
                out.append(n)
        return out

    def node(self, key: Scalar, v: Value) -> ir.Node | None:
        keys = ("description", "say", "task", "collect", "tools", "enter", "on")
        m = self.r.mapping(v, f"node {key.raw!r}", allowed=keys, at=key.pos)
        if m is None:
            if isinstance(v, Scalar) and v.tag == "null":
                self.mark(("node", key.raw), key)
                return ir.Node(key.raw)
            return None
        name = key.raw
        self.mark(("node", name), key)
        say = []
        for s in self.r.strings(m.get("say"), "say"):
            self.map.templates.append(TemplateSite(s.raw, s.text_pos, f"say in node {name!r}"))
            say.append(ir.Template(s.raw))
        tools = []
        for j, s in enumerate(self.r.strings(m.get("tools"), "tools")):
            self.mark(("node", name, "tool", j), s)
            tools.append(s.raw)
        slots = self.slots(m.get("collect"), name)
        return ir.Node(
            name=name,
            say=tuple(say),
            task=self.template(m.get("task"), f"task of node {name!r}"),
            collect=tuple(slots),
            tools=tuple(tools),
            on_enter=tuple(self.actions(m.get("enter"), ("node", name, "enter"), f"node {name!r}")),
            transitions=tuple(self.transitions(m.get("on"), ("node", name), f"node {name!r}")),
            description=self.r.string(m.get("description"), "description") or "",
        )

    def slots(self, v: Value | None, node: str) -> list[ir.Slot]:
        if v is None:
            return []
        if not isinstance(v, Map):
            self.r.wrong(v, "collect", "a mapping of slot name: type or definition")
            return []
        out = []
        for k, val in self.r.names(v, "slot"):
            self.mark(("slot", k.raw), k)
            if not isinstance(val, Map):
                spec = self.type_name(val, f"type of slot {k.raw!r}")
                if spec is not None:
                    out.append(ir.Slot(k.raw, spec[0], required=spec[1]))
                continue
            keys = ("type", "prompt", "validate", "invalid", "max_asks", "required", "description")
            m = self.r.mapping(val, f"slot {k.raw!r}", allowed=keys, required=("type",), at=k.pos)
            spec = self.type_name(m.get("type"), f"type of slot {k.raw!r}")
            if spec is None:
                continue
            req = self.r.boolean(m.get("required"), "required")
            max_asks = self.r.integer(m.get("max_asks"), "max_asks", minimum=1)
            out.append(
                ir.Slot(
                    name=k.raw,
                    type=spec[0],
                    prompt=self.template(m.get("prompt"), f"prompt of slot {k.raw!r}"),
                    validate=self.expr(
                        m.get("validate"),
                        f"validation of slot {k.raw!r}",
                        condition=True,
                        extra={"value": spec[0]},
                    ),
                    invalid=self.template(
                        m.get("invalid"),
                        f"invalid message of slot {k.raw!r}",
                        extra={"value": spec[0]},
                    ),
                    max_asks=3 if max_asks is None else max_asks,
                    required=spec[1] if req is None else (req and spec[1]),
                    description=self.r.string(m.get("description"), "description") or "",
                )
            )
        return out

    # --- actions ------------------------------------------------------------------------------------
    def actions(self, v: Value | None, path: Path, where: str) -> list:
        if v is None:
            return []
        items = v.items if isinstance(v, Seq) else [v]
        out = []
        for k, item in enumerate(items):
            a = self.action(item, path + (k,), where)
            if a is not None:
                out.append(a)
        return out

    def action(self, v: Value, path: Path, where: str):
        if not isinstance(v, Map):
            self.r.wrong(
                v, f"an action in {where}", "a mapping such as {say: ...} or {end: outcome}"
            )
            return None
        kinds = [k for k in v.keys() if k in _ACTION_KINDS]
        if len(kinds) != 1:
            self.r.report(
                v.pos,
                "VF203" if not kinds else "VF202",
                f"an action in {where} needs exactly one of {', '.join(_ACTION_KINDS)}"
                + (f", found {', '.join(kinds)}" if kinds else ""),
                "write one action per list item",
            )
            return None
        kind = kinds[0]
        extra = {"set": ("value",), "call": ("args", "into")}.get(kind, ())
        m = self.r.mapping(
            v,
            f"{kind} action",
            allowed=(kind, *extra),
            required=("value",) if kind == "set" else (),
        )
        head = m.get(kind)
        self.mark(path, head)
        if kind == "set":
            name = self.r.string(head, "set target")
            value = self.expr(m.get("value"), f"value of set {name}")
            if name is None or value is None:
                return None
            return ir.SetAction(name, value)
        if kind == "call":
            tool = self.r.name(head, "tool name")
            args = []
            am = m.get("args")
            if am is not None and not isinstance(am, Map):
                self.r.wrong(am, "args", "a mapping of name: expression")
            elif am is not None:
                for ak, av in self.r.names(am, "argument"):
                    e = self.expr(av, f"argument {ak.raw} of {tool}")
                    if e is not None:
                        args.append((ak.raw, e))
            into = self.r.name(m.get("into"), "into")
            if into is not None:
                self.mark(("into", into), m.get("into"))
            return ir.CallAction(tool, tuple(args), into) if tool else None
        if kind == "say":
            t = self.template(head, f"say in {where}")
            return ir.SayAction(t) if t else None
        if kind == "outcome":
            o = self.r.name(head, "outcome")
            return ir.OutcomeAction(o) if o else None
        if kind == "transfer":
            t = self.template(head, f"transfer in {where}")
            return ir.TransferAction(t) if t else None
        if isinstance(head, Scalar) and head.tag in ("bool", "null"):
            return ir.EndAction()
        o = self.r.name(head, "end outcome")
        return ir.EndAction(o) if o else None

    # --- transitions --------------------------------------------------------------------------------
    def transitions(self, v: Value | None, path: Path, where: str) -> list:
        if v is None:
            return []
        if not isinstance(v, Seq):
            self.r.wrong(v, f"transitions of {where}", "a list of transitions")
            return []
        out = []
        for i, item in enumerate(v.items):
            t = self.transition(item, path + ("tr", i), where)
            if t is not None:
                out.append(t)
        return out

    def transition(self, v: Value, path: Path, where: str):
        if not isinstance(v, Map):
            self.r.wrong(v, f"a transition of {where}", "a mapping such as {intent: ..., to: ...}")
            return None
        kinds = [k for k in v.keys() if k in _TRANSITION_KINDS]
        if len(kinds) != 1:
            self.r.report(
                v.pos,
                "VF203" if not kinds else "VF202",
                f"a transition of {where} needs exactly one of {', '.join(_TRANSITION_KINDS)}"
                + (f", found {', '.join(kinds)}" if kinds else ""),
                "write one transition per list item",
            )
            return None
        kind = kinds[0]
        extra = _TRANSITION_EXTRA.get(kind, ())
        m = self.r.mapping(v, f"{kind} transition", allowed=(kind, "to", "do", *extra))
        head = m.get(kind)
        self.mark(path, head)
        target = self.r.name(m.get("to"), "target")
        self.mark(path + ("to",), m.get("to"))
        actions = tuple(self.actions(m.get("do"), path + ("do",), where))
        reprompt = (
            self.template(m.get("reprompt"), f"reprompt in {where}")
            if "reprompt" in extra
            else None
        )
        max_ = self.r.integer(m.get("max"), "max") if "max" in extra else None
        if kind == "intent":
            name = self.r.name(head, "intent name")
            desc = self.r.string(m.get("description"), "description")
            if desc is None and "description" not in m.keys():
                self.r.report(
                    head.pos,
                    "VF203",
                    f"intent {name!r} has no description",
                    'add a description: on name "what the caller means" -> target',
                )
            examples = tuple(s.raw for s in self.r.strings(m.get("examples"), "examples"))
            params = self.fields(m.get("params"), "param", f"intent:{name}")
            if name is None:
                return None
            return ir.IntentTransition(name, desc or "", target, examples, tuple(params), actions)
        if kind == "when":
            cond = self.expr(head, f"condition in {where}", condition=True)
            return ir.WhenTransition(cond, target, actions) if cond else None
        if kind == "dtmf":
            digits = self.r.string(head, "dtmf digits")
            if digits is not None and not _DTMF.match(digits):
                self.r.report(
                    head.pos,
                    "VF202",
                    f"dtmf digits must be keys 0-9 * # or 'any', not {digits!r}",
                    'write on dtmf "1" -> target',
                )
                return None
            return ir.DtmfTransition(digits, target, actions) if digits else None
        if kind == "silence":
            after = self.r.duration_ms(head, "silence duration")
            if after is None:
                return None
            return ir.SilenceTransition(
                after, target, reprompt, 0 if max_ is None else max_, actions
            )
        if not (isinstance(head, Scalar) and head.tag in ("bool", "null")):
            self.r.wrong(head, "no_match", "true")
        return ir.NoMatchTransition(target, reprompt, 0 if max_ is None else max_, actions)
