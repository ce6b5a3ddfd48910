"""The flow AST: a document tree whose every key and value knows where it was written.

Both syntaxes produce this same tree: ``dsl.yaml_loader`` from a ``*.flow.yaml`` file,
``dsl.parser`` from a ``*.flow`` file (its statements mapped onto the YAML shape that
``dsl.schema`` describes). ``dsl.build`` then reads one shape, whatever the syntax, so a rule
is checked once and reports the line and column of the text the designer wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

ScalarTag = Literal["str", "int", "float", "bool", "null"]


@dataclass(frozen=True, slots=True)
class Pos:
    """1-based line and column in the source file."""

    line: int
    col: int


@dataclass(slots=True)
class Scalar:
    """A leaf: a string, number, boolean or null.

    ``raw`` is the text as written (without quotes); ``value`` its typed reading. ``text_pos`` is
    where the content starts (after an opening quote), so diagnostics from an expression or a
    template embedded in the string point into the file.
    """

    value: str | int | float | bool | None
    raw: str
    tag: ScalarTag
    pos: Pos
    text_pos: Pos
    quoted: bool = False


@dataclass(slots=True)
class Seq:
    items: list[Value]
    pos: Pos


@dataclass(slots=True)
class Map:
    """A mapping that keeps duplicate keys (so they can be reported) and their order."""

    entries: list[tuple[Scalar, Value]] = field(default_factory=list)
    pos: Pos = field(default_factory=lambda: Pos(1, 1))

    def get(self, key: str) -> Value | None:
        for k, v in self.entries:
            if k.raw == key:
                return v
        return None

    def key(self, key: str) -> Scalar | None:
        for k, _ in self.entries:
            if k.raw == key:
                return k
        return None

    def keys(self) -> Iterator[str]:
        return (k.raw for k, _ in self.entries)

    def add(self, key: Scalar, value: Value) -> None:
        self.entries.append((key, value))


Value = Scalar | Seq | Map


def kind_of(v: Value) -> str:
    """A word for error messages: ``mapping``, ``list``, ``string``, ``number``..."""
    if isinstance(v, Map):
        return "mapping"
    if isinstance(v, Seq):
        return "list"
    return {
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
        "null": "null",
    }[v.tag]


def string(value: str, pos: Pos, *, text_pos: Pos | None = None, quoted: bool = False) -> Scalar:
    return Scalar(value, value, "str", pos, text_pos or pos, quoted)


def number(value: int | float, raw: str, pos: Pos) -> Scalar:
    return Scalar(value, raw, "int" if isinstance(value, int) else "float", pos, pos)


def boolean(value: bool, pos: Pos) -> Scalar:
    return Scalar(value, "true" if value else "false", "bool", pos, pos)


def null(pos: Pos) -> Scalar:
    return Scalar(None, "null", "null", pos, pos)
