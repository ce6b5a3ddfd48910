"""Comments kept through ``voxflow fmt``: found in the source, put back into the canonical text.

The writers (``dsl/format.py``, ``dsl/format_yaml.py``) generate text from the IR, which has no
comments. So each comment is tied to the document path of the statement it stands on or
above (``("agent", "nodes", "greet", "on", 0)``: both syntaxes give the same document tree,
``dsl.ast``), and put back on or above the line where the new text writes that path, or
where it writes the nearest enclosing one when the path itself is gone (a default left out).
A comment with nothing after it ends the file again. Comments keep their text and order; a
blank line between a comment block and its statement is kept.

A comment at the end of a line stays there when the line can carry one, and else goes on a
line of its own above it (in ``.flow``, text after a condition or an expression belongs to it;
in YAML, a long text may continue on the next lines). ``format_source`` checks that the
result compiles to the same flow, and else puts every such comment above its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from dsl import ir
from dsl.ast import Map, Seq, Value
from dsl.compiler import CompileResult, compile_source
from dsl.format import to_flow
from dsl.format_yaml import to_yaml
from dsl.parser import parse_flow
from dsl.yaml_loader import load_yaml

Path = tuple[object, ...]


@dataclass(frozen=True)
class Comment:
    line: int
    """1-based line of the source."""
    text: str
    """From ``#`` to the end of the line, trailing spaces removed."""
    trailing: bool
    """After code on the same line (else on a line of its own)."""


@dataclass
class _Block:
    """Comment lines bound to one place of the text, in source order."""

    lines: list[str]
    """Full-line comments (``""`` for a blank line between two of them)."""
    blank_after: bool = False
    trailing: list[str] | None = None


class FormatError(Exception):
    """The formatted text would not compile to the same flow (a formatter bug, with a test)."""


def find_comments(source: str, syntax: str) -> list[Comment]:
    """Every comment of ``source`` (``syntax`` ``flow`` or ``yaml``), in order."""
    starts = _yaml_starts(source) if syntax == "yaml" else _flow_starts(source)
    lines = source.splitlines()
    out = []
    for line, col in starts:
        text = lines[line - 1]
        out.append(Comment(line, text[col:].rstrip(), bool(text[:col].strip())))
    return out


def _flow_starts(source: str) -> list[tuple[int, int]]:
    """``#`` outside string literals (``.flow`` strings are one line, with backslash escapes;
    ``#`` means nothing else in the grammar)."""
    out = []
    for n, text in enumerate(source.splitlines(), 1):
        quoted, i = False, 0
        while i < len(text):
            c = text[i]
            if quoted and c == "\\":
                i += 1
            elif c == '"':
                quoted = not quoted
            elif c == "#" and not quoted:
                out.append((n, i))
                break
            i += 1
    return out


def _yaml_starts(source: str) -> list[tuple[int, int]]:
    """``#`` that starts a YAML comment: outside every scalar, at a line start or after a space.

    PyYAML's scanner skips comments, so they are what lies between its scalar tokens.
    """
    spans = [
        (t.start_mark.index, t.end_mark.index)
        for t in yaml.scan(source, Loader=yaml.SafeLoader)
        if isinstance(t, yaml.ScalarToken)
    ]
    out, line, col, i, span = [], 1, 0, 0, 0
    while i < len(source):
        while span < len(spans) and spans[span][1] <= i:
            span += 1
        if span < len(spans) and spans[span][0] <= i:
            # inside a scalar: jump to its end, counting its lines
            end = spans[span][1]
            chunk = source[i:end]
            newlines = chunk.count("\n")
            line += newlines
            col = len(chunk) - chunk.rfind("\n") - 1 if newlines else col + len(chunk)
            i = end
            continue
        c = source[i]
        if c == "\n":
            line, col = line + 1, 0
        elif c == "#" and (col == 0 or source[i - 1] in " \t"):
            out.append((line, col))
            nl = source.find("\n", i)
            skip = (len(source) if nl < 0 else nl) - i
            i, col = i + skip, col + skip
            continue
        else:
            col += 1
        i += 1
    return out


def paths(doc: Value) -> list[tuple[Path, int, int]]:
    """Every key and list item of the document tree as ``(path, line, col)``, in order."""
    out: list[tuple[Path, int, int]] = []

    def walk(v: Value, path: Path) -> None:
        if isinstance(v, Map):
            for k, val in v.entries:
                p = (*path, k.raw)
                out.append((p, k.pos.line, k.pos.col))
                walk(val, p)
        elif isinstance(v, Seq):
            for i, item in enumerate(v.items):
                p = (*path, i)
                out.append((p, item.pos.line, item.pos.col))
                walk(item, p)

    walk(doc, ())
    return out


def _anchors(located: list[tuple[Path, int, int]]) -> dict[int, Path]:
    """Each line's statement: the path written first on it (the outermost of equals: ``agent``
    rather than ``agent.name`` for ``agent reminder``)."""
    best: dict[int, tuple[int, int, Path]] = {}
    for path, line, col in located:
        key = (col, len(path))
        if line not in best or key < best[line][:2]:
            best[line] = (col, len(path), path)
    return {line: b[2] for line, b in best.items()}


def _lines(located: list[tuple[Path, int, int]]) -> dict[Path, int]:
    out: dict[Path, int] = {}
    for path, line, _ in located:
        out.setdefault(path, line)
    return out


def _blocks(source: str, doc: Value, comments: list[Comment]) -> list[tuple[Path | None, _Block]]:
    """The comments grouped by the path they belong to (``None``: the end of the file)."""
    lines = source.splitlines()
    anchors = _anchors(_located(doc, lines))
    code = sorted(anchors)

    def next_anchor(after: int) -> tuple[Path | None, int]:
        for line in code:
            if line > after:
                return anchors[line], line
        return None, len(lines) + 1

    out: list[tuple[Path | None, _Block]] = []
    pending: list[str] = []
    for i, c in enumerate(comments):
        if c.trailing:
            # on a keyword line that opens a block, it belongs to that block (next line's)
            path = anchors.get(c.line) or next_anchor(c.line)[0]
            out.append((path, _Block([], trailing=[c.text])))
            continue
        if pending and comments[i - 1].line < c.line - 1:
            pending.append("")  # a blank line (or an anchor-less line) between two comments
        pending.append(c.text)
        last = c.line
        more = i + 1 < len(comments) and not comments[i + 1].trailing
        if more and comments[i + 1].line <= _next_code(lines, last):
            continue
        path, at = next_anchor(last)
        blank = at - 1 > last and not lines[at - 2].strip() if at <= len(lines) else False
        out.append((path, _Block(pending, blank_after=blank)))
        pending = []
    return out


def _next_code(lines: list[str], after: int) -> int:
    """The line number of the first line after ``after`` that is not blank or a comment."""
    for n in range(after + 1, len(lines) + 1):
        text = lines[n - 1].strip()
        if text and not text.startswith("#"):
            return n
    return len(lines) + 1


_ENDS_IN_EXPRESSION = re.compile(r"^\s*(set|validate|var|when)\b(?!.*->)")
"""``.flow`` statements that end in an expression or condition (``EXPR``/``COND`` in
``dsl/flow.lark`` run to the end of the line, so a ``#`` after them would belong to them)."""


def _can_trail(lines: list[str], n: int, starts: set[int], syntax: str) -> bool:
    """Whether line ``n`` can end with a comment: its statement ends on it and owns no
    trailing text (a YAML scalar folded onto the next lines, a ``.flow`` expression)."""
    text = lines[n - 1]
    if syntax == "flow":
        return not _ENDS_IN_EXPRESSION.match(text)
    if text.rstrip().endswith(("|", ">", "|-", ">-", "|+", ">+")):
        return False
    if n == len(lines) or n + 1 in starts or not lines[n].strip():
        return True
    indent = len(text) - len(text.lstrip())
    return len(lines[n]) - len(lines[n].lstrip()) <= indent


def restore(
    text: str,
    doc: Value,
    blocks: list[tuple[Path | None, _Block]],
    syntax: str,
    *,
    trailing: bool = True,
) -> str:
    """``text`` (``syntax``, document tree ``doc``) with the comment ``blocks`` put back."""
    lines = text.rstrip("\n").split("\n")
    located = _located(doc, lines)
    where = _lines(located)
    starts = {line for _, line, _ in located}
    before: dict[int, list[str]] = {}
    after: dict[int, list[str]] = {}
    end: list[str] = []
    for path, block in blocks:
        at = _line_of(path, where)
        if block.trailing and trailing and at is not None and _can_trail(lines, at, starts, syntax):
            after.setdefault(at, []).extend(block.trailing)
            continue
        body = block.lines + (block.trailing or [])
        if at is None:
            end.extend(["", *body] if end or lines else body)
            continue
        before.setdefault(at, []).extend(body + ([""] if block.blank_after else []))
    out: list[str] = []
    for n, line in enumerate(lines, 1):
        indent = line[: len(line) - len(line.lstrip())]
        out.extend(indent + c if c else "" for c in before.get(n, []))
        out.append(line + "".join("  " + c for c in after.get(n, [])))
    out.extend(end)
    return "\n".join(out) + "\n"


def _line_of(path: Path | None, where: dict[Path, int]) -> int | None:
    """The line of ``path``, else of its nearest enclosing path that the text has."""
    while path:
        if path in where:
            return where[path]
        path = path[:-1]
    return None


def _located(doc: Value, lines: list[str]) -> list[tuple[Path, int, int]]:
    """``paths(doc)``, with each block that a bare keyword line opens (``.flow``'s
    ``provider``, ``turn``, ``enter``, ``global``, ``do``: their key takes the position of
    their first item) moved to that keyword line."""
    found = paths(doc)
    first: dict[Path, tuple[int, int]] = {}
    for path, line, col in found:
        first.setdefault(path, (line, col))
    starts = {line for _, line, _ in found}
    moved: dict[Path, int] = {}
    for path, line, col in found:  # parents before children: the outermost block claims a line
        parent = path[:-1]
        if len(path) > 1 and first.get(parent) == (line, col) and parent not in moved:
            header = _header(lines, line, starts)
            if header != line and header not in moved.values():
                moved[parent] = header
    out = []
    for path, line, col in found:
        if path in moved:
            text = lines[moved[path] - 1]
            line, col = moved[path], len(text) - len(text.lstrip()) + 1
        out.append((path, line, col))
    return out


def _header(lines: list[str], at: int, starts: set[int]) -> int:
    """The keyword line that opens the block whose first item is on line ``at``, if there is
    one (the code line above it, comments aside, less indented, where nothing of the tree
    starts)."""
    row = at - 1
    while row >= 1 and lines[row - 1].lstrip().startswith("#"):
        row -= 1
    if row < 1 or at > len(lines):
        return at
    above, here = lines[row - 1], lines[at - 1]
    opens = (
        above.strip()
        and row not in starts
        and len(above) - len(above.lstrip()) < len(here) - len(here.lstrip())
    )
    return row if opens else at


def format_source(result: CompileResult, to: str) -> str:
    """The compiled flow written canonically in ``to`` (``flow`` or ``yaml``) with every
    comment of its source.

    Raises:
        FormatError: the text would not compile to the same flow (a bug, never bad input:
            ``result`` compiled).
    """
    flow = result.unwrap()
    syntax = "yaml" if result.file.endswith((".yaml", ".yml")) else "flow"
    source_doc = (
        load_yaml(result.source, result.file)
        if syntax == "yaml"
        else parse_flow(result.source, result.file)
    )
    blocks = _blocks(result.source, source_doc, find_comments(result.source, syntax))
    writer: Callable[[ir.Flow], str] = to_yaml if to == "yaml" else to_flow
    body = writer(flow)
    name = "fmt.flow.yaml" if to == "yaml" else "fmt.flow"
    doc = load_yaml(body, name) if to == "yaml" else parse_flow(body, name)
    for trailing in (True, False):
        text = restore(body, doc, blocks, to, trailing=trailing)
        again = compile_source(text, file=_beside(result.file, name), syntax=to)
        if again.flow is not None and again.flow.hash == flow.hash:
            return text
    raise FormatError(f"{result.file}: the formatted text does not compile to the same flow")


def _beside(file: str, name: str) -> str:
    """A file name next to ``file`` (imports of other flow files resolve from there)."""
    head, sep, _ = file.replace("\\", "/").rpartition("/")
    return f"{head}{sep}{name}"
