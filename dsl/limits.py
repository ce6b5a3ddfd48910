"""How big a flow source may be, checked before any parser sees it.

A flow file is written by a person: the largest example in ``flows/`` is under 4 KB. The limits
leave two orders of magnitude of room and still keep a compile's time and memory small enough
that a hostile source costs only its own request (``DESIGN.md``, invariant 7).
"""

from __future__ import annotations

from dsl.diagnostics import Diagnostic

MAX_SOURCE_BYTES = 512 * 1024
"""Largest flow source, in UTF-8 bytes."""

MAX_LINES = 20_000
"""Most lines in a flow source."""

MAX_NODES = 50_000
"""Most YAML nodes (scalars, mappings, sequences) in a ``*.flow.yaml`` document."""

MAX_NESTING = 100
"""Deepest nesting of brackets ``( [ {`` anywhere in a source (templates and expressions
included): the parsers are recursive and would otherwise run out of stack."""


class SourceTooLarge(Exception):
    """A source over a limit; ``diagnostic`` (``VF103``) says which and how to fix it."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.headline())


def check_source(source: str, file: str) -> Diagnostic | None:
    """The ``VF103`` diagnostic of a source over a limit, or ``None`` (linear, no parsing)."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        return too_large(file, f"the flow source is {size} bytes; at most {MAX_SOURCE_BYTES}")
    lines = source.count("\n") + 1
    if lines > MAX_LINES:
        return too_large(file, f"the flow source has {lines} lines; at most {MAX_LINES}")
    return _nesting(source, file)


def too_large(file: str, what: str, line: int = 1, col: int = 1) -> Diagnostic:
    return Diagnostic(
        file,
        line,
        col,
        "VF103",
        what,
        "split the flow into smaller flows, or move data into the contacts or a knowledge"
        " collection",
    )


def _nesting(source: str, file: str) -> Diagnostic | None:
    if source.count("(") + source.count("[") + source.count("{") <= MAX_NESTING:
        return None  # cannot nest deeper than it has openers (most sources stop here)
    depth, line, col = 0, 1, 0
    for ch in source:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                return Diagnostic(
                    file,
                    line,
                    col,
                    "VF103",
                    f"brackets nest more than {MAX_NESTING} deep here",
                    "split the expression or template into named variables",
                )
        elif ch in ")]}" and depth:
            depth -= 1
    return None
