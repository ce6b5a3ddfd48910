"""Building blocks of the ``.flow`` → document transformer: statement entries placed at a path,
shared token positions, and the call-argument splitter."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token

from dsl import ast
from dsl.ast import Map, Pos, Scalar, Seq, Value


@dataclass
class Entry:
    """One statement's contribution to the document: ``value`` at ``path``."""

    path: tuple[str, ...]
    key_pos: Pos
    value: Value
    append: bool = False


PLAIN_STRING = re.compile(r'"[^"\\\x00-\x1f]*"')


# Positions are immutable, so one parse shares a ``Pos`` per (line, column); cleared per parse.
POSITIONS: dict[tuple[int, int], Pos] = {}


def pos_of(tok: Token) -> Pos:
    key = (tok.line or 1, tok.column or 1)
    pos = POSITIONS.get(key)
    if pos is None:
        pos = POSITIONS[key] = Pos(*key)
    return pos


def name_of(tok: Token) -> Scalar:
    return ast.string(str(tok), pos_of(tok))


def assemble(entries: list, pos: Pos) -> Map:
    root = Map([], pos)
    for e in flatten(entries):
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


class Multi(list):
    """Several entries from one statement (``amd leave_message voicemail``)."""


def flatten(entries):
    for e in entries:
        if isinstance(e, Multi):
            yield from e
        else:
            yield e


def split_top_level(text: str) -> list[tuple[int, str]]:
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
