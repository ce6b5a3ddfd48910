"""The ``.flow`` statements of an agent (persona, context, provider, tools, nodes, actions,
transitions) as a lark transformer into the located document tree.

It runs inside the LALR parser (``dsl.parser``); each statement returns an ``Entry`` that
``assemble`` places at its path, so ``node greet`` becomes ``agent.nodes.greet`` with the
line and column of its token.
"""

from __future__ import annotations

import json

from lark import Token, Transformer

from dsl import ast
from dsl.ast import Map, Pos, Scalar, Seq, Value
from dsl.diagnostics import Diagnostic
from dsl.flow_campaign import CampaignStatements
from dsl.flow_doc import (
    PLAIN_STRING,
    Entry,
    assemble,
    name_of,
    pos_of,
    split_top_level,
)


class ToDoc(CampaignStatements, Transformer):
    def __init__(self, file: str = "<flow>"):
        super().__init__()
        self.reset(file)

    def reset(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    # leaves -------------------------------------------------------------------------------
    def _str(self, tok: Token) -> Scalar:
        pos = pos_of(tok)
        raw = str(tok)
        try:
            # Without a backslash or a control character there is nothing to unescape: the
            # content is the text between the quotes, exactly what ``json.loads`` returns.
            value = raw[1:-1] if PLAIN_STRING.fullmatch(raw) else json.loads(raw)
        except ValueError:
            self.diagnostics.append(
                Diagnostic(
                    self.file,
                    pos.line,
                    pos.col,
                    "VF101",
                    "malformed string literal",
                    'escape only \\" \\\\ \\n \\t \\uXXXX inside "..."',
                )
            )
            value = str(tok)[1:-1]
        return ast.string(value, pos, text_pos=Pos(pos.line, pos.col + 1), quoted=True)

    def _int(self, tok: Token) -> Scalar:
        return ast.number(int(tok), str(tok), pos_of(tok))

    def _code(self, tok: Token) -> Scalar:
        text = str(tok).rstrip()
        return ast.string(text, pos_of(tok))

    def _field(self, name: Token, type_: Token, optional, desc) -> tuple[Scalar, Value]:
        type_text = str(type_) + ("?" if optional is not None else "")
        if desc is None:
            return name_of(name), ast.string(type_text, pos_of(type_))
        m = Map([], pos_of(type_))
        m.add(ast.string("type", pos_of(type_)), ast.string(type_text, pos_of(type_)))
        m.add(ast.string("description", pos_of(desc)), self._str(desc))
        return name_of(name), m

    # document -----------------------------------------------------------------------------
    def start(self, items):
        agent, campaign = items[-2], items[-1]
        root = Map([], agent[0].pos)
        root.add(ast.string("agent", agent[0].pos), agent[1])
        if campaign is not None:
            root.add(ast.string("campaign", campaign[0].pos), campaign[1])
        return root

    def agent(self, items):
        name, *rest = items
        body = assemble(rest, pos_of(name))
        body.entries.insert(0, (ast.string("name", pos_of(name)), name_of(name)))
        return name_of(name), body

    def persona(self, items):
        return Entry(("persona",), pos_of(items[0]), self._str(items[0]))

    def timezone(self, items):
        return Entry(("timezone",), pos_of(items[0]), self._str(items[0]))

    def field(self, items):
        return self._field(*items)

    def context(self, items):
        name, *fields = items
        m = Map([], pos_of(name))
        for f in fields:
            if f is not None:
                m.add(*f)
        return Entry(("context", str(name)), pos_of(name), m)

    def var_decl(self, items):
        name, type_, optional, desc, default = items
        key, val = self._field(name, type_, optional, desc)
        if default is not None:
            if isinstance(val, Scalar):
                m = Map([], val.pos)
                m.add(ast.string("type", val.pos), val)
                val = m
            val.add(ast.string("default", pos_of(default)), self._code(default))
        return Entry(("variables", str(name)), pos_of(name), val)

    def outcomes(self, items):
        seq = Seq([name_of(t) for t in items], pos_of(items[0]))
        return Entry(("outcomes",), pos_of(items[0]), seq)

    def start_decl(self, items):
        return Entry(("start",), pos_of(items[0]), name_of(items[0]))

    def fallback(self, items):
        return Entry(("fallback",), pos_of(items[0]), name_of(items[0]))

    def provider(self, items):
        return Entry(("provider",), items[0].key_pos, assemble(items, items[0].key_pos))

    def voice(self, items):
        return Entry(("voice",), pos_of(items[0]), self._str(items[0]))

    def voices(self, items):
        m = Map([], pos_of(items[0]))
        for name, voice in zip(items[::2], items[1::2], strict=True):
            m.add(name_of(name), self._str(voice))
        return Entry(("voice",), pos_of(items[0]), m)

    def language(self, items):
        return Entry(("language",), pos_of(items[0]), self._str(items[0]))

    def turn_detection(self, items):
        return Entry(("turn_detection",), pos_of(items[0]), name_of(items[0]))

    def vad_threshold(self, items):
        tok = items[0]
        return Entry(("vad_threshold",), pos_of(tok), ast.number(float(tok), str(tok), pos_of(tok)))

    def eagerness(self, items):
        return Entry(("eagerness",), pos_of(items[0]), name_of(items[0]))

    def silence_duration(self, items):
        return Entry(("silence",), pos_of(items[0]), name_of(items[0]))

    def turn(self, items):
        return Entry(("turn",), items[0].key_pos, assemble(items, items[0].key_pos))

    def prefix_padding(self, items):
        return Entry(("prefix_padding",), pos_of(items[0]), name_of(items[0]))

    def provider_fallback(self, items):
        return Entry(
            ("fallback",), pos_of(items[0]), Seq([name_of(t) for t in items], pos_of(items[0]))
        )

    def apology(self, items):
        return Entry(("apology",), pos_of(items[0]), self._str(items[0]))

    def knowledge(self, items):
        coll, top = items
        m = Map([], pos_of(coll))
        m.add(ast.string("collection", pos_of(coll)), self._str(coll))
        if top is not None:
            m.add(ast.string("top_k", pos_of(top)), self._int(top))
        return Entry(("knowledge",), pos_of(coll), m)

    # tools --------------------------------------------------------------------------------
    def tool(self, items):
        name, method, url, *rest = items
        body = assemble(rest, pos_of(name))
        body.entries[0:0] = [
            (ast.string("method", pos_of(method)), name_of(method)),
            (ast.string("url", pos_of(url)), self._str(url)),
        ]
        return Entry(("tools", str(name)), pos_of(name), body)

    def description(self, items):
        return Entry(("description",), pos_of(items[0]), self._str(items[0]))

    def param(self, items):
        key, val = self._field(*items)
        return Entry(("params", key.raw), key.pos, val)

    def header(self, items):
        name, value = items
        return Entry(("headers", json.loads(str(name))), pos_of(name), self._str(value))

    def body(self, items):
        return Entry(("body",), pos_of(items[0]), self._str(items[0]))

    def timeout(self, items):
        return Entry(("timeout",), pos_of(items[0]), name_of(items[0]))

    def retries(self, items):
        return Entry(("retries",), pos_of(items[0]), self._int(items[0]))

    def response(self, items):
        name, path = items
        return Entry(("response", str(name)), pos_of(name), self._str(path))

    def on_error(self, items):
        return Entry(("on_error",), pos_of(items[0]), name_of(items[0]))

    def global_block(self, items):
        seq = Seq(list(items), items[0].pos)
        return Entry(("global",), items[0].pos, seq)

    # nodes --------------------------------------------------------------------------------
    def node(self, items):
        name, *rest = items
        rest = [Entry(("on",), r.pos, r, append=True) if isinstance(r, Map) else r for r in rest]
        return Entry(("nodes", str(name)), pos_of(name), assemble(rest, pos_of(name)))

    def say(self, items):
        return Entry(("say",), pos_of(items[0]), self._str(items[0]), append=True)

    def task(self, items):
        return Entry(("task",), pos_of(items[0]), self._str(items[0]))

    def tools(self, items):
        return Entry(
            ("tools",), pos_of(items[0]), Seq([name_of(t) for t in items], pos_of(items[0]))
        )

    def enter(self, items):
        actions = [e.value for e in items]
        return Entry(("enter",), actions[0].pos, Seq(actions, actions[0].pos))

    def collect(self, items):
        name, type_, optional, desc, *rest = items
        _, val = self._field(name, type_, optional, None)
        m = Map([], val.pos)
        m.add(ast.string("type", val.pos), val)
        if desc is not None:
            m.add(ast.string("description", pos_of(desc)), self._str(desc))
        for e in rest:
            if e is not None:
                m.add(ast.string(e.path[-1], e.key_pos), e.value)
        return Entry(("collect", str(name)), pos_of(name), m)

    def on_change(self, items):
        return Entry(("on_change",), pos_of(items[0]), name_of(items[0]))

    def prompt(self, items):
        return Entry(("prompt",), pos_of(items[0]), self._str(items[0]))

    def validate(self, items):
        return Entry(("validate",), pos_of(items[0]), self._code(items[0]))

    def invalid(self, items):
        return Entry(("invalid",), pos_of(items[0]), self._str(items[0]))

    def max_asks(self, items):
        return Entry(("max_asks",), pos_of(items[0]), self._int(items[0]))

    # actions (in a node body they land in ``enter``) ----------------------------------------
    def _action(self, key: Token, pairs: list[tuple[str, Value]]):
        first = pairs[0][1]
        m = Map([], first.pos)
        for k, v in pairs:
            m.add(ast.string(k, v.pos), v)
        return Entry(("enter",), first.pos, m, append=True)

    def set_action(self, items):
        name, expr = items
        return self._action(name, [("set", name_of(name)), ("value", self._code(expr))])

    def call_action(self, items):
        name, args, into, target = items
        pairs: list[tuple[str, Value]] = [("call", name_of(name))]
        if args is not None:
            pairs.append(("args", self._args(args)))
        if into is not None:
            pairs.append(("into", name_of(into)))
        if target is not None:
            pairs.append((target[0].raw, target[1]))
        return self._action(name, pairs)

    def return_action(self, items):
        kw, args = items
        if args is None:
            return self._action(kw, [("return", ast.boolean(True, pos_of(kw)))])
        return self._action(kw, [("return", self._args(args))])

    # sub-flows ----------------------------------------------------------------------------
    def import_decl(self, items):
        *names, path = items
        source = self._str(path)
        seq = Seq([name_of(n) for n in names], pos_of(names[0]))
        return Entry(("imports", source.raw), pos_of(names[0]), seq)

    def subflow(self, items):
        name, *rest = items
        params = Map([], pos_of(name))
        results = None
        body = []
        for item in rest:
            if isinstance(item, tuple):
                params.add(*item)
            elif isinstance(item, Map):
                results = item
            elif item is not None:
                body.append(item)
        m = assemble(body, pos_of(name))
        m.entries.insert(0, (ast.string("params", pos_of(name)), params))
        if results is not None:
            m.entries.insert(1, (ast.string("results", results.pos), results))
        return Entry(("flows", str(name)), pos_of(name), m)

    def flow_results(self, items):
        fields = [f for f in items if f is not None]
        m = Map([], fields[0][0].pos if fields else Pos(0, 0))
        for f in fields:
            m.add(*f)
        return m

    def _args(self, tok: Token) -> Map:
        text = str(tok)[1:-1]
        base = pos_of(tok)
        m = Map([], base)
        for start, part in split_top_level(text):
            col = base.col + 1 + start
            name, eq, expr = part.partition("=")
            if not eq or not name.strip().isidentifier() or not expr.strip():
                self.diagnostics.append(
                    Diagnostic(
                        self.file,
                        base.line,
                        col + len(part) - len(part.lstrip()),
                        "VF101",
                        "a call argument must be written name = expression",
                        "write call tool(name = value, other = value)",
                    )
                )
                continue
            ncol = col + len(name) - len(name.lstrip())
            ecol = col + len(name) + 1 + len(expr) - len(expr.lstrip())
            m.add(
                ast.string(name.strip(), Pos(base.line, ncol)),
                ast.string(expr.strip(), Pos(base.line, ecol)),
            )
        return m

    def say_action(self, items):
        return self._action(items[0], [("say", self._str(items[0]))])

    def outcome_action(self, items):
        return self._action(items[0], [("outcome", name_of(items[0]))])

    def transfer_action(self, items):
        return self._action(items[0], [("transfer", self._str(items[0]))])

    def end_action(self, items):
        end, name = items
        value = name_of(name) if name is not None else ast.boolean(True, pos_of(end))
        return self._action(end, [("end", value)])

    # transitions --------------------------------------------------------------------------
    def _transition(self, head: list[tuple[str, Value]], tail: list) -> Map:
        m = Map([], head[0][1].pos)
        for k, v in head:
            m.add(ast.string(k, v.pos), v)
        for part in tail:
            if part is None:
                continue
            if isinstance(part, list):  # tr_body entries
                sub = assemble(part, m.pos)
                m.entries.extend(sub.entries)
            else:
                m.add(*part)
        return m

    def reprompt(self, items):
        s = self._str(items[0])
        return ast.string("reprompt", s.pos), s

    def max(self, items):
        return ast.string("max", pos_of(items[0])), self._int(items[0])

    def target(self, items):
        return ast.string("to", pos_of(items[0])), name_of(items[0])

    def tr_body(self, items):
        return list(items)

    def examples(self, items):
        seq = Seq([self._str(t) for t in items], pos_of(items[0]))
        return Entry(("examples",), pos_of(items[0]), seq)

    def do(self, items):
        actions = [e.value for e in items]
        return Entry(("do",), actions[0].pos, Seq(actions, actions[0].pos))

    def intent_tr(self, items):
        name, desc, target, body = items
        head: list[tuple[str, Value]] = [("intent", name_of(name))]
        if desc is not None:
            head.append(("description", self._str(desc)))
        return self._transition(head, [target, body])

    def when_tr(self, items):
        cond, target, body = items
        return self._transition([("when", self._code(cond))], [target, body])

    def dtmf_tr(self, items):
        digits, target, body = items
        return self._transition([("dtmf", self._str(digits))], [target, body])

    def silence_tr(self, items):
        after, reprompt, max_, target, body = items
        return self._transition([("silence", name_of(after))], [reprompt, max_, target, body])

    def no_match_tr(self, items):
        kw, reprompt, max_, target, body = items
        head: list[tuple[str, Value]] = [("no_match", ast.boolean(True, pos_of(kw)))]
        return self._transition(head, [reprompt, max_, target, body])

    def tool_error_tr(self, items):
        kw, tool, target, body = items
        value = name_of(tool) if tool is not None else ast.boolean(True, pos_of(kw))
        return self._transition([("tool_error", value)], [target, body])

    def failures_tr(self, items):
        kw, max_, target, body = items
        return self._transition([("failures", max_[1])], [target, body])

    def _repair_tr(self, kind: str, items):
        kw, say, target, body = items
        if say is None:
            value: Value = ast.boolean(True, pos_of(kw))
        elif say.type == "OFF":
            value = ast.boolean(False, pos_of(say))
        else:
            value = self._str(say)
        return self._transition([(kind, value)], [target, body])

    def clarify_tr(self, items):
        return self._repair_tr("clarify", items)

    def chitchat_tr(self, items):
        return self._repair_tr("chitchat", items)
