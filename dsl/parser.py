"""Parse the textual ``.flow`` syntax (``dsl/flow.lark``) into the located document tree.

Statements map onto the YAML shape (``dsl.schema``): ``node greet`` becomes
``agent.nodes.greet``, ``on busy retry after 15m max 3`` becomes
``campaign.rules.busy = {retry: 15m, max: 3}`` and so on, each key and value keeping the line
and column of its token. Syntax errors become ``VF101`` diagnostics that say what was expected.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput
from lark.exceptions import UnexpectedEOF, UnexpectedToken
from lark.indenter import DedentError, Indenter

from dsl import ast
from dsl.ast import Map, Pos, Scalar, Seq, Value
from dsl.diagnostics import Diagnostic

GRAMMAR = Path(__file__).with_name("flow.lark")


class _FlowIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def _process(self, stream):
        # lark's generic loop, specialised: no bracket tracking (the grammar has none), and the
        # per-token attribute lookups hoisted out of the loop. Same tokens, same positions.
        levels, tab_len = self.indent_level, self.tab_len
        nl, indent_type, dedent_type = self.NL_type, self.INDENT_type, self.DEDENT_type
        borrow = Token.new_borrow_pos
        token = None
        for token in stream:
            yield token
            if token.type != nl:
                continue
            indent_str = token.rsplit("\n", 1)[1]
            indent = indent_str.count(" ") + indent_str.count("\t") * tab_len
            if indent > levels[-1]:
                levels.append(indent)
                yield borrow(indent_type, indent_str, token)
                continue
            while indent < levels[-1]:
                levels.pop()
                yield borrow(dedent_type, indent_str, token)
            if indent != levels[-1]:
                raise DedentError(
                    f"Unexpected dedent to column {indent}. Expected dedent to {levels[-1]}"
                )
        while len(levels) > 1:
            levels.pop()
            yield (
                borrow(dedent_type, "", token)
                if token
                else Token(dedent_type, "", 0, 0, 0, 0, 0, 0)
            )


@cache
def _parser() -> Lark:
    # The transformer runs inside the LALR parser (no parse tree is built): about twice as
    # fast on big flows. It keeps per-parse state, hence one parse at a time (``_LOCK``).
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_FlowIndenter(),
        propagate_positions=False,
        maybe_placeholders=True,
        transformer=_TRANSFORMER,
    )


_LOCK = threading.Lock()


class FlowSyntaxError(Exception):
    """Carries the ``VF101`` diagnostics of a ``.flow`` file that does not parse."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__(diagnostics[0].headline() if diagnostics else "syntax error")


def parse_flow(source: str, file: str = "<flow>") -> Map:
    """Parse ``.flow`` text into the document tree.

    Raises:
        FlowSyntaxError: the text does not follow the grammar (or a string literal is
            malformed); every diagnostic is ``VF101``.
    """
    text = source if source.endswith("\n") else source + "\n"
    try:
        with _LOCK:
            _TRANSFORMER.reset(file)
            try:
                doc = _parser().parse(text)
            finally:
                _POSITIONS.clear()
            diagnostics = list(_TRANSFORMER.diagnostics)
    except UnexpectedInput as e:
        raise FlowSyntaxError([_syntax_diagnostic(e, file)]) from None
    except DedentError as e:
        line = _dedent_line(text)
        raise FlowSyntaxError(
            [
                Diagnostic(
                    file,
                    line,
                    1,
                    "VF101",
                    f"indentation does not match any outer block ({e})",
                    "indent nested statements by the same amount as their siblings",
                )
            ]
        ) from None
    if diagnostics:
        raise FlowSyntaxError(diagnostics)
    return doc


def _dedent_line(text: str) -> int:
    # The Indenter does not say where; report the first line whose indent matches no level.
    levels = [0]
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if indent > levels[-1]:
            levels.append(indent)
            continue
        while indent < levels[-1]:
            levels.pop()
        if indent != levels[-1]:
            return i
    return 1


_TOKEN_WORDS = {
    "_NL": "end of line",
    "_INDENT": "an indented block",
    "_DEDENT": "end of block",
    "NAME": "a name",
    "STRING": 'a "quoted string"',
    "INT": "a whole number",
    "NUMBER": "a number",
    "DURATION": "a duration like 15m",
    "TYPE": "a type name",
    "COND": "a condition",
    "EXPR": "an expression",
    "ARGS": "(name = value, ...)",
    "DOTTED": "a name such as vars.x",
    "DAYS": "days like mon-fri",
    "HOURS": "hours like 09:00-18:00",
    "DATE": "a date YYYY-MM-DD",
    "METHOD": "an HTTP method",
    "SOURCE": "csv, xlsx or postgres",
    "AMD_POLICY": "hangup, leave_message or continue",
    "COLUMN_KEY": "phone, timezone, id or name",
    "$END": "end of file",
}


_FOUND = {
    "$END": "end of file",
    "_NL": "end of line",
    "_INDENT": "indentation (this line is indented deeper than the statement above allows)",
    "_DEDENT": "end of the indented block",
}


def _expected_words(expected: set[str]) -> list[str]:
    parser = _parser()
    words = []
    for name in sorted(expected):
        if name in _TOKEN_WORDS:
            words.append(_TOKEN_WORDS[name])
            continue
        term = next((t for t in parser.terminals if t.name == name), None)
        if term is not None and term.pattern.type == "str":
            words.append(repr(term.pattern.value))
        else:
            words.append(name.lower())
    return sorted(set(words))


def _syntax_diagnostic(e: UnexpectedInput, file: str) -> Diagnostic:
    line, col = max(getattr(e, "line", 1) or 1, 1), max(getattr(e, "column", 1) or 1, 1)
    if isinstance(e, UnexpectedCharacters):
        found = repr(e.char)
        expected = _expected_words(set(e.allowed or ()))
    elif isinstance(e, UnexpectedToken):
        tok = e.token
        found = _FOUND.get(tok.type) or repr(str(tok))
        expected = _expected_words(set(e.expected or ()))
        if tok.type in ("_INDENT", "_DEDENT"):
            # Indentation tokens borrow the newline's position; the problem is on the next line.
            line, col = max(tok.end_line or 1, 1), max(tok.end_column or 1, 1)
    elif isinstance(e, UnexpectedEOF):
        found = "end of file"
        expected = _expected_words(set(e.expected or ()))
    else:  # pragma: no cover - lark has no other UnexpectedInput kinds
        found, expected = "input", []
    shown = ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")
    return Diagnostic(
        file,
        line,
        col,
        "VF101",
        f"unexpected {found}",
        f"expected {shown}" if shown else "check the statement against the flow syntax",
    )


# --- tree → document ---------------------------------------------------------------------------


@dataclass
class _Entry:
    """One statement's contribution to the document: ``value`` at ``path``."""

    path: tuple[str, ...]
    key_pos: Pos
    value: Value
    append: bool = False


_PLAIN_STRING = re.compile(r'"[^"\\\x00-\x1f]*"')


# Positions are immutable, so one parse shares a ``Pos`` per (line, column); cleared per parse.
_POSITIONS: dict[tuple[int, int], Pos] = {}


def _pos(tok: Token) -> Pos:
    key = (tok.line or 1, tok.column or 1)
    pos = _POSITIONS.get(key)
    if pos is None:
        pos = _POSITIONS[key] = Pos(*key)
    return pos


def _name(tok: Token) -> Scalar:
    return ast.string(str(tok), _pos(tok))


def _assemble(entries: list, pos: Pos) -> Map:
    root = Map([], pos)
    for e in _flatten(entries):
        if e is None:
            continue
        m = root
        for part in e.path[:-1]:
            nxt = m.get(part)
            if not isinstance(nxt, Map):
                nxt = Map([], e.key_pos)
                m.add(ast.string(part, e.key_pos), nxt)
            m = nxt
        last = e.path[-1]
        if e.append:
            seq = m.get(last)
            if not isinstance(seq, Seq):
                seq = Seq([], e.key_pos)
                m.add(ast.string(last, e.key_pos), seq)
            seq.items.append(e.value)
        else:
            m.add(ast.string(last, e.key_pos), e.value)
    return root


class _ToDoc(Transformer):
    def __init__(self, file: str = "<flow>"):
        super().__init__()
        self.reset(file)

    def reset(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    # leaves -------------------------------------------------------------------------------
    def _str(self, tok: Token) -> Scalar:
        pos = _pos(tok)
        raw = str(tok)
        try:
            # Without a backslash or a control character there is nothing to unescape: the
            # content is the text between the quotes, exactly what ``json.loads`` returns.
            value = raw[1:-1] if _PLAIN_STRING.fullmatch(raw) else json.loads(raw)
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
        return ast.number(int(tok), str(tok), _pos(tok))

    def _code(self, tok: Token) -> Scalar:
        text = str(tok).rstrip()
        return ast.string(text, _pos(tok))

    def _field(self, name: Token, type_: Token, optional, desc) -> tuple[Scalar, Value]:
        type_text = str(type_) + ("?" if optional is not None else "")
        if desc is None:
            return _name(name), ast.string(type_text, _pos(type_))
        m = Map([], _pos(type_))
        m.add(ast.string("type", _pos(type_)), ast.string(type_text, _pos(type_)))
        m.add(ast.string("description", _pos(desc)), self._str(desc))
        return _name(name), m

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
        body = _assemble(rest, _pos(name))
        body.entries.insert(0, (ast.string("name", _pos(name)), _name(name)))
        return _name(name), body

    def persona(self, items):
        return _Entry(("persona",), _pos(items[0]), self._str(items[0]))

    def timezone(self, items):
        return _Entry(("timezone",), _pos(items[0]), self._str(items[0]))

    def field(self, items):
        return self._field(*items)

    def context(self, items):
        name, *fields = items
        m = Map([], _pos(name))
        for f in fields:
            if f is not None:
                m.add(*f)
        return _Entry(("context", str(name)), _pos(name), m)

    def var_decl(self, items):
        name, type_, optional, desc, default = items
        key, val = self._field(name, type_, optional, desc)
        if default is not None:
            if isinstance(val, Scalar):
                m = Map([], val.pos)
                m.add(ast.string("type", val.pos), val)
                val = m
            val.add(ast.string("default", _pos(default)), self._code(default))
        return _Entry(("variables", str(name)), _pos(name), val)

    def outcomes(self, items):
        seq = Seq([_name(t) for t in items], _pos(items[0]))
        return _Entry(("outcomes",), _pos(items[0]), seq)

    def start_decl(self, items):
        return _Entry(("start",), _pos(items[0]), _name(items[0]))

    def fallback(self, items):
        return _Entry(("fallback",), _pos(items[0]), _name(items[0]))

    def provider(self, items):
        return _Entry(("provider",), items[0].key_pos, _assemble(items, items[0].key_pos))

    def voice(self, items):
        return _Entry(("voice",), _pos(items[0]), self._str(items[0]))

    def language(self, items):
        return _Entry(("language",), _pos(items[0]), self._str(items[0]))

    def turn_detection(self, items):
        return _Entry(("turn_detection",), _pos(items[0]), _name(items[0]))

    def vad_threshold(self, items):
        tok = items[0]
        return _Entry(("vad_threshold",), _pos(tok), ast.number(float(tok), str(tok), _pos(tok)))

    def silence_duration(self, items):
        return _Entry(("silence",), _pos(items[0]), _name(items[0]))

    def provider_fallback(self, items):
        return _Entry(("fallback",), _pos(items[0]), Seq([_name(t) for t in items], _pos(items[0])))

    def apology(self, items):
        return _Entry(("apology",), _pos(items[0]), self._str(items[0]))

    def knowledge(self, items):
        coll, top = items
        m = Map([], _pos(coll))
        m.add(ast.string("collection", _pos(coll)), self._str(coll))
        if top is not None:
            m.add(ast.string("top_k", _pos(top)), self._int(top))
        return _Entry(("knowledge",), _pos(coll), m)

    # tools --------------------------------------------------------------------------------
    def tool(self, items):
        name, method, url, *rest = items
        body = _assemble(rest, _pos(name))
        body.entries[0:0] = [
            (ast.string("method", _pos(method)), _name(method)),
            (ast.string("url", _pos(url)), self._str(url)),
        ]
        return _Entry(("tools", str(name)), _pos(name), body)

    def description(self, items):
        return _Entry(("description",), _pos(items[0]), self._str(items[0]))

    def param(self, items):
        key, val = self._field(*items)
        return _Entry(("params", key.raw), key.pos, val)

    def header(self, items):
        name, value = items
        return _Entry(("headers", json.loads(str(name))), _pos(name), self._str(value))

    def body(self, items):
        return _Entry(("body",), _pos(items[0]), self._str(items[0]))

    def timeout(self, items):
        return _Entry(("timeout",), _pos(items[0]), _name(items[0]))

    def retries(self, items):
        return _Entry(("retries",), _pos(items[0]), self._int(items[0]))

    def response(self, items):
        name, path = items
        return _Entry(("response", str(name)), _pos(name), self._str(path))

    def on_error(self, items):
        return _Entry(("on_error",), _pos(items[0]), _name(items[0]))

    def global_block(self, items):
        seq = Seq(list(items), items[0].pos)
        return _Entry(("global",), items[0].pos, seq)

    # nodes --------------------------------------------------------------------------------
    def node(self, items):
        name, *rest = items
        rest = [_Entry(("on",), r.pos, r, append=True) if isinstance(r, Map) else r for r in rest]
        return _Entry(("nodes", str(name)), _pos(name), _assemble(rest, _pos(name)))

    def say(self, items):
        return _Entry(("say",), _pos(items[0]), self._str(items[0]), append=True)

    def task(self, items):
        return _Entry(("task",), _pos(items[0]), self._str(items[0]))

    def tools(self, items):
        return _Entry(("tools",), _pos(items[0]), Seq([_name(t) for t in items], _pos(items[0])))

    def enter(self, items):
        actions = [e.value for e in items]
        return _Entry(("enter",), actions[0].pos, Seq(actions, actions[0].pos))

    def collect(self, items):
        name, type_, optional, desc, *rest = items
        _, val = self._field(name, type_, optional, None)
        m = Map([], val.pos)
        m.add(ast.string("type", val.pos), val)
        if desc is not None:
            m.add(ast.string("description", _pos(desc)), self._str(desc))
        for e in rest:
            if e is not None:
                m.add(ast.string(e.path[-1], e.key_pos), e.value)
        return _Entry(("collect", str(name)), _pos(name), m)

    def prompt(self, items):
        return _Entry(("prompt",), _pos(items[0]), self._str(items[0]))

    def validate(self, items):
        return _Entry(("validate",), _pos(items[0]), self._code(items[0]))

    def invalid(self, items):
        return _Entry(("invalid",), _pos(items[0]), self._str(items[0]))

    def max_asks(self, items):
        return _Entry(("max_asks",), _pos(items[0]), self._int(items[0]))

    # actions (in a node body they land in ``enter``) ----------------------------------------
    def _action(self, key: Token, pairs: list[tuple[str, Value]]):
        first = pairs[0][1]
        m = Map([], first.pos)
        for k, v in pairs:
            m.add(ast.string(k, v.pos), v)
        return _Entry(("enter",), first.pos, m, append=True)

    def set_action(self, items):
        name, expr = items
        return self._action(name, [("set", _name(name)), ("value", self._code(expr))])

    def call_action(self, items):
        name, args, into = items
        pairs: list[tuple[str, Value]] = [("call", _name(name))]
        if args is not None:
            pairs.append(("args", self._args(args)))
        if into is not None:
            pairs.append(("into", _name(into)))
        return self._action(name, pairs)

    def _args(self, tok: Token) -> Map:
        text = str(tok)[1:-1]
        base = _pos(tok)
        m = Map([], base)
        for start, part in _split_top_level(text):
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
        return self._action(items[0], [("outcome", _name(items[0]))])

    def transfer_action(self, items):
        return self._action(items[0], [("transfer", self._str(items[0]))])

    def end_action(self, items):
        end, name = items
        value = _name(name) if name is not None else ast.boolean(True, _pos(end))
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
                sub = _assemble(part, m.pos)
                m.entries.extend(sub.entries)
            else:
                m.add(*part)
        return m

    def reprompt(self, items):
        s = self._str(items[0])
        return ast.string("reprompt", s.pos), s

    def max(self, items):
        return ast.string("max", _pos(items[0])), self._int(items[0])

    def target(self, items):
        return ast.string("to", _pos(items[0])), _name(items[0])

    def tr_body(self, items):
        return list(items)

    def examples(self, items):
        seq = Seq([self._str(t) for t in items], _pos(items[0]))
        return _Entry(("examples",), _pos(items[0]), seq)

    def do(self, items):
        actions = [e.value for e in items]
        return _Entry(("do",), actions[0].pos, Seq(actions, actions[0].pos))

    def intent_tr(self, items):
        name, desc, target, body = items
        head: list[tuple[str, Value]] = [("intent", _name(name))]
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
        return self._transition([("silence", _name(after))], [reprompt, max_, target, body])

    def no_match_tr(self, items):
        kw, reprompt, max_, target, body = items
        head: list[tuple[str, Value]] = [("no_match", ast.boolean(True, _pos(kw)))]
        return self._transition(head, [reprompt, max_, target, body])

    # campaign -----------------------------------------------------------------------------
    def campaign(self, items):
        name, *rest = items
        body = _assemble(rest, _pos(name))
        body.entries.insert(0, (ast.string("name", _pos(name)), _name(name)))
        return _name(name), body

    def contacts(self, items):
        source, location, *rest = items
        m = Map([], _pos(source))
        m.add(_name(source), self._str(location))
        for e in rest:
            if e is not None:
                m.add(ast.string(e.path[-1], e.key_pos), e.value)
        return _Entry(("contacts",), _pos(source), m)

    def column_opt(self, items):
        key, col = items
        value = col if isinstance(col, Scalar) else _name(col)
        return _Entry((str(key),), _pos(key), value)

    def quoted_column(self, items):
        return self._str(items[0])

    def no_column(self, items):
        return ast.null(_pos(items[0]))

    def region(self, items):
        return _Entry(("region",), _pos(items[0]), _name(items[0]))

    def window(self, items):
        days, hours = items[0], items[1]
        m = Map([], _pos(days))
        m.add(ast.string("days", _pos(days)), _name(days))
        m.add(ast.string("hours", _pos(hours)), _name(hours))
        return _Entry(("windows",), _pos(days), m, append=True)

    def holiday_countries(self, items):
        seq = Seq([_name(t) for t in items], _pos(items[0]))
        return _Entry(("holidays", "countries"), _pos(items[0]), seq)

    def holiday_dates(self, items):
        seq = Seq([_name(t) for t in items], _pos(items[0]))
        return _Entry(("holidays", "dates"), _pos(items[0]), seq)

    def pacing(self, items):
        m = Map([], items[0][0].pos)
        for k, v in items:
            m.add(k, v)
        return _Entry(("pacing",), m.pos, m)

    def concurrent(self, items):
        return ast.string("concurrent", _pos(items[0])), self._int(items[0])

    def per_minute(self, items):
        return ast.string("per_minute", _pos(items[0])), self._int(items[0])

    def ramp(self, items):
        start, step, every = items
        m = Map([], _pos(start))
        m.add(ast.string("start", _pos(start)), self._int(start))
        if step is not None:
            m.add(ast.string("step", _pos(step)), self._int(step))
        if every is not None:
            m.add(ast.string("every", _pos(every)), _name(every))
        return ast.string("ramp", _pos(start)), m

    def amd(self, items):
        policy, node = items
        out = [_Entry(("amd",), _pos(policy), _name(policy))]
        if node is not None:
            out.append(_Entry(("amd_node",), _pos(node), _name(node)))
        return _Multi(out)

    def caller_id(self, items):
        return _Entry(("caller_id",), _pos(items[0]), self._str(items[0]))

    def max_attempts(self, items):
        return _Entry(("max_attempts",), _pos(items[0]), self._int(items[0]))

    def ring_timeout(self, items):
        return _Entry(("ring_timeout",), _pos(items[0]), _name(items[0]))

    def rule(self, items):
        outcome, action = items
        value = _name(action) if isinstance(action, Token) else action
        return _Entry(("rules", str(outcome)), _pos(outcome), value)

    def retry(self, items):
        after, max_ = items
        m = Map([], _pos(after))
        m.add(ast.string("retry", _pos(after)), _name(after))
        if max_ is not None:
            m.add(*max_)
        return m


class _Multi(list):
    """Several entries from one statement (``amd leave_message voicemail``)."""


def _flatten(entries):
    for e in entries:
        if isinstance(e, _Multi):
            yield from e
        else:
            yield e


_TRANSFORMER = _ToDoc()


def _split_top_level(text: str) -> list[tuple[int, str]]:
    """Split call arguments on commas outside parentheses and string literals."""
    parts, depth, start, quote, i = [], 0, 0, False, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append((start, text[start:i]))
            start = i + 1
        i += 1
    if text[start:].strip() or parts:
        parts.append((start, text[start:]))
    return parts
