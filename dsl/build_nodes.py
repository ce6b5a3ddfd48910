"""Reading the nodes of an agent: what they say, the slots they collect, their actions and
their transitions.

A mixin of ``dsl.build``'s builder: it uses the builder's ``Reader`` (``self.r``), its source
map (``self.mark``, ``self.map``) and its template and expression readers.
"""

from __future__ import annotations

import re

from dsl import ir
from dsl.ast import Map, Scalar, Seq, Value
from dsl.build_tools import TURN_KEYS
from dsl.reader import Reader
from dsl.source_map import Path, SourceMap, TemplateSite

_DTMF = re.compile(r"^([0-9*#]+|any)$")
NODE_KEYS = ("description", "say", "task", "collect", "tools", "enter", "on", "turn")
"""The fields of a node (YAML keys; the same words in ``.flow``)."""
SLOT_KEYS = (
    "type", "prompt", "validate", "invalid", "max_asks", "required", "description", "on_change",
)  # fmt: skip
TRANSITION_KINDS = (
    "intent", "when", "dtmf", "silence", "no_match", "tool_error", "failures", "clarify",
    "chitchat",
)  # fmt: skip
"""The events a transition answers (the YAML key that names its kind)."""
_TRANSITION_EXTRA = {
    "intent": ("description", "examples", "params"),
    "silence": ("reprompt", "max"),
    "no_match": ("reprompt", "max"),
}
ACTION_KINDS = ("set", "call", "say", "outcome", "transfer", "end", "return")
ON_CHANGE = ("rerun", "keep")
"""What a correction of a filled slot does (``on_change``)."""
REPAIR_SCOPE = {
    "clarify": {"clarify.first": "str", "clarify.second": "str"},
    "chitchat": {"chitchat.topic": "str", "chitchat.answer": "str"},
}
"""What the wording of ``on clarify`` / ``on chitchat`` may read besides the flow's names."""


class NodeReader:
    r: Reader
    map: SourceMap
    prefix: str = ""
    """``<flow>.`` while reading a sub-flow: its node names and targets are qualified."""
    subflow_names: frozenset[str] = frozenset()
    agent_provider: ir.ProviderSettings = ir.ProviderSettings()
    """The agent's provider settings, read before the nodes (a node's ``turn`` builds on them)."""

    def local(self, name: str | None) -> str | None:
        """A node name as the IR holds it (``identity.ask`` inside sub-flow ``identity``)."""
        return None if name is None else self.prefix + name

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

    def subflows(self, v: Value | None) -> tuple[list[ir.SubFlow], list[ir.Node]]:
        """The sub-flows (``flows``) and their nodes, named ``<flow>.<node>``."""
        if v is None:
            return [], []
        if not isinstance(v, Map):
            self.r.wrong(v, "flows", "a mapping of sub-flow name: definition")
            return [], []
        flows, nodes = [], []
        for k, val in self.r.names(v, "sub-flow"):
            m = self.r.mapping(
                val,
                f"sub-flow {k.raw!r}",
                allowed=("description", "params", "results", "start", "nodes"),
                required=("nodes",),
                at=k.pos,
            )
            if m is None:
                continue
            self.mark(("flow", k.raw), k)
            params = self.fields(m.get("params"), "param", f"flow:{k.raw}")
            results = self.fields(m.get("results"), "result", f"flow-result:{k.raw}")
            first_t, first_e = len(self.map.templates), len(self.map.exprs)
            self.prefix = k.raw + "."
            try:
                own = self.nodes(m.get("nodes"))
                start = self.r.name(m.get("start"), "start")
                self.mark(("flow", k.raw, "start"), m.get("start") or m.key("nodes") or k)
            finally:
                self.prefix = ""
            for site in [*self.map.templates[first_t:], *self.map.exprs[first_e:]]:
                site.subflow = k.raw
            if start is None and own:
                start = own[0].name.removeprefix(k.raw + ".")
            nodes.extend(own)
            flows.append(
                ir.SubFlow(
                    name=k.raw,
                    start=f"{k.raw}.{start}",
                    params=tuple(params),
                    results=tuple(results),
                    description=self.r.string(m.get("description"), "description") or "",
                )
            )
        return flows, nodes

    def node(self, key: Scalar, v: Value) -> ir.Node | None:
        m = self.r.mapping(v, f"node {key.raw!r}", allowed=NODE_KEYS, at=key.pos)
        if m is None:
            if isinstance(v, Scalar) and v.tag == "null":
                self.mark(("node", self.prefix + key.raw), key)
                return ir.Node(self.prefix + key.raw)
            return None
        name = self.prefix + key.raw
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
            turn=self.node_turn(m.get("turn"), name),
        )

    def node_turn(self, v: Value | None, node: str) -> ir.TurnDetection | None:
        """A node's own turn detection (``turn``: the provider's turn keys), over the agent's.

        Ultravox sets its voice activity detection once per call (``vadSettings`` of the
        create-call body, ``docs/protocols.md``): when the flow may fall back to it, a node's
        ``turn`` gets a warning, since that provider keeps the call's settings in the node.
        """
        if v is None:
            return None
        m = self.r.mapping(v, f"turn of node {node!r}", allowed=TURN_KEYS)
        if m is None:
            return None
        self.mark(("node", node, "turn"), v)
        turn = self.turn(m, self.agent_provider.turn)  # type: ignore[attr-defined]
        if "ultravox" in self.agent_provider.fallback and m.entries:
            self.r.report(
                m.entries[0][0].pos,
                "VF207",
                f"Ultravox cannot change the turn detection per node: node {node!r} keeps the "
                "call's when Ultravox takes the call",
                "set what must hold on every provider in provider, or accept the difference",
                warning=True,
            )
        return None if turn == ir.TurnDetection() else turn

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
            m = self.r.mapping(
                val, f"slot {k.raw!r}", allowed=SLOT_KEYS, required=("type",), at=k.pos
            )
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
                    on_change=self.on_change(m.get("on_change")),
                )
            )
        return out

    def on_change(self, v: Value | None) -> str | None:
        """``rerun`` or ``keep`` (what a correction of a filled slot does)."""
        word = self.r.name(v, "on_change")
        if word is None or word in ON_CHANGE:
            return word
        self.r.report(
            v.pos,
            "VF202",
            f"on_change must be rerun or keep, not {word!r}",
            "write on_change rerun (go back to what reads the slot) or on_change keep",
        )
        return None

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
        kinds = [k for k in v.keys() if k in ACTION_KINDS]
        if len(kinds) != 1:
            self.r.report(
                v.pos,
                "VF203" if not kinds else "VF202",
                f"an action in {where} needs exactly one of {', '.join(ACTION_KINDS)}"
                + (f", found {', '.join(kinds)}" if kinds else ""),
                "write one action per list item",
            )
            return None
        kind = kinds[0]
        extra = {"set": ("value",), "call": ("args", "into", "to")}.get(kind, ())
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
                    self.mark(path + ("arg", ak.raw), ak)
                    e = self.expr(av, f"argument {ak.raw} of {tool}")
                    if e is not None:
                        args.append((ak.raw, e))
            into = self.r.name(m.get("into"), "into")
            if into is not None:
                self.mark(("into", into), m.get("into"))
            then = self.local(self.r.name(m.get("to"), "target"))
            self.mark(path + ("to",), m.get("to"))
            if tool in self.subflow_names:
                if then is None and "do" not in path:
                    self.r.report(
                        head.pos,
                        "VF203",
                        f"the call of sub-flow {tool!r} needs the node to continue at",
                        f"write call {tool}(...) -> <node> (only a call in a transition's do "
                        "may leave it out, to come back to the interrupted node)",
                    )
                    return None
                return ir.SubFlowCall(tool, then, tuple(args), into)
            if then is not None:
                self.r.report(
                    m.get("to").pos,
                    "VF202",
                    f"{tool!r} is not a sub-flow: only a sub-flow call continues at a node",
                    "remove -> <node>, or declare the sub-flow (flow <name>(...))",
                )
            return ir.CallAction(tool, tuple(args), into) if tool else None
        if kind == "return":
            values = []
            if isinstance(head, Map):
                for rk, rv in self.r.names(head, "result"):
                    self.mark(path + ("arg", rk.raw), rk)
                    e = self.expr(rv, f"result {rk.raw}")
                    if e is not None:
                        values.append((rk.raw, e))
            elif not (isinstance(head, Scalar) and head.tag in ("bool", "null")):
                self.r.wrong(head, "return", "a mapping of result: expression")
            return ir.ReturnAction(tuple(values))
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
        kinds = [k for k in v.keys() if k in TRANSITION_KINDS]
        if len(kinds) != 1:
            self.r.report(
                v.pos,
                "VF203" if not kinds else "VF202",
                f"a transition of {where} needs exactly one of {', '.join(TRANSITION_KINDS)}"
                + (f", found {', '.join(kinds)}" if kinds else ""),
                "write one transition per list item",
            )
            return None
        kind = kinds[0]
        extra = _TRANSITION_EXTRA.get(kind, ())
        m = self.r.mapping(v, f"{kind} transition", allowed=(kind, "to", "do", *extra))
        head = m.get(kind)
        self.mark(path, head)
        target = self.local(self.r.name(m.get("to"), "target"))
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
        if kind == "tool_error":
            if isinstance(head, Scalar) and head.tag in ("bool", "null"):
                return ir.ToolErrorTransition(None, target, actions)
            tool = self.r.name(head, "tool_error tool")
            self.mark(path + ("tool",), head)
            return ir.ToolErrorTransition(tool, target, actions)
        if kind == "failures":
            count = self.r.integer(head, "failures", minimum=1)
            return ir.FailuresTransition(count, target, actions) if count is not None else None
        if kind in REPAIR_SCOPE:
            return self.repair_transition(kind, head, target, actions, where)
        if not (isinstance(head, Scalar) and head.tag in ("bool", "null")):
            self.r.wrong(head, "no_match", "true")
        return ir.NoMatchTransition(target, reprompt, 0 if max_ is None else max_, actions)

    def repair_transition(self, kind: str, head: Value, target, actions, where: str):
        """``on clarify`` / ``on chitchat``: the wording (a template), ``true`` (or nothing) for
        the built-in one, or ``false`` (``off`` in ``.flow``) to turn the pattern off here."""
        cls = ir.ClarifyTransition if kind == "clarify" else ir.ChitchatTransition
        if isinstance(head, Scalar) and head.tag in ("bool", "null"):
            if head.value is False and (target is not None or actions):
                self.r.report(
                    head.pos,
                    "VF202",
                    f"on {kind} off takes no target and no actions",
                    f"remove -> <node> and do, or write on {kind} -> <node>",
                )
                return None
            return cls(None, target, off=head.value is False, actions=actions)
        say = self.template(head, f"{kind} wording in {where}", extra=REPAIR_SCOPE[kind])
        return cls(say, target, actions=actions) if say is not None else None
