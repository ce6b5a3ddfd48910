"""The campaign statements of the ``.flow`` syntax, mapped onto the YAML shape (``dsl.schema``).

A mixin of the transformer in ``dsl.flow_statements``: it uses its leaf readers (``_str``,
``_int``).
"""

from __future__ import annotations

from typing import Any

from lark import Token

from dsl import ast
from dsl.ast import Map, Scalar, Seq
from dsl.flow_doc import Entry, Multi, assemble, name_of, pos_of


class CampaignStatements:
    _str: Any
    _int: Any

    def campaign(self, items):
        name, *rest = items
        body = assemble(rest, pos_of(name))
        body.entries.insert(0, (ast.string("name", pos_of(name)), name_of(name)))
        return name_of(name), body

    def contacts(self, items):
        source, location, *rest = items
        m = Map([], pos_of(source))
        m.add(name_of(source), self._str(location))
        for e in rest:
            if e is not None:
                m.add(ast.string(e.path[-1], e.key_pos), e.value)
        return Entry(("contacts",), pos_of(source), m)

    def column_opt(self, items):
        key, col = items
        value = col if isinstance(col, Scalar) else name_of(col)
        return Entry((str(key),), pos_of(key), value)

    def quoted_column(self, items):
        return self._str(items[0])

    def no_column(self, items):
        return ast.null(pos_of(items[0]))

    def region(self, items):
        return Entry(("region",), pos_of(items[0]), name_of(items[0]))

    def window(self, items):
        days, hours = items[0], items[1]
        m = Map([], pos_of(days))
        m.add(ast.string("days", pos_of(days)), name_of(days))
        m.add(ast.string("hours", pos_of(hours)), name_of(hours))
        return Entry(("windows",), pos_of(days), m, append=True)

    def holiday_countries(self, items):
        seq = Seq([name_of(t) for t in items], pos_of(items[0]))
        return Entry(("holidays", "countries"), pos_of(items[0]), seq)

    def holiday_dates(self, items):
        seq = Seq([name_of(t) for t in items], pos_of(items[0]))
        return Entry(("holidays", "dates"), pos_of(items[0]), seq)

    def pacing(self, items):
        m = Map([], items[0][0].pos)
        for k, v in items:
            m.add(k, v)
        return Entry(("pacing",), m.pos, m)

    def concurrent(self, items):
        return ast.string("concurrent", pos_of(items[0])), self._int(items[0])

    def per_minute(self, items):
        return ast.string("per_minute", pos_of(items[0])), self._int(items[0])

    def ramp(self, items):
        start, step, every = items
        m = Map([], pos_of(start))
        m.add(ast.string("start", pos_of(start)), self._int(start))
        if step is not None:
            m.add(ast.string("step", pos_of(step)), self._int(step))
        if every is not None:
            m.add(ast.string("every", pos_of(every)), name_of(every))
        return ast.string("ramp", pos_of(start)), m

    def amd(self, items):
        policy, node = items
        out = [Entry(("amd",), pos_of(policy), name_of(policy))]
        if node is not None:
            out.append(Entry(("amd_node",), pos_of(node), name_of(node)))
        return Multi(out)

    def caller_id(self, items):
        return Entry(("caller_id",), pos_of(items[0]), self._str(items[0]))

    def max_attempts(self, items):
        return Entry(("max_attempts",), pos_of(items[0]), self._int(items[0]))

    def ring_timeout(self, items):
        return Entry(("ring_timeout",), pos_of(items[0]), name_of(items[0]))

    def rule(self, items):
        outcome, action = items
        value = name_of(action) if isinstance(action, Token) else action
        return Entry(("rules", str(outcome)), pos_of(outcome), value)

    def retry(self, items):
        after, max_ = items
        m = Map([], pos_of(after))
        m.add(ast.string("retry", pos_of(after)), name_of(after))
        if max_ is not None:
            m.add(*max_)
        return m
