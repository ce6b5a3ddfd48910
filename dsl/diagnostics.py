"""Diagnostics: what the compiler says about a flow file.

Every stage (parse, load, validate, expressions, templates) reports problems as ``Diagnostic``
values and keeps going, so a designer sees every problem of a file at once. A diagnostic names
the file, line and column (1-based), a stable code, what is wrong and how to fix it; ``render``
adds a caret excerpt of the source line.

Codes are stable identifiers (``VF1xx`` syntax, ``VF2xx`` structure, ``VF3xx`` names and types,
``VF4xx`` flow graph, ``VF5xx`` campaign); tests assert on them, never on message prose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Position:
    line: int
    col: int


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    col: int
    code: str
    message: str
    """What is wrong, in one sentence."""
    hint: str = ""
    """How to fix it."""
    severity: Severity = Severity.ERROR
    end_line: int | None = None
    end_col: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def headline(self) -> str:
        """``file:line:col: error VF123: message``, the compiler-style line."""
        return (
            f"{self.file}:{self.line}:{self.col}: {self.severity.value} {self.code}: {self.message}"
        )

    def render(self, source: str | None = None) -> str:
        """The headline, the source line with a caret under the column, and the hint."""
        out = [self.headline()]
        if source is not None:
            lines = source.splitlines()
            if 1 <= self.line <= len(lines):
                text = lines[self.line - 1].expandtabs(1)
                width = 1
                if self.end_line == self.line and self.end_col and self.end_col > self.col:
                    width = self.end_col - self.col
                out.append(f"  {self.line:>4} | {text}")
                out.append("       | " + " " * (self.col - 1) + "^" * width)
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class CompileError(Exception):
    """Raised by entry points that must produce an IR, carrying every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(sorted(diagnostics, key=lambda d: (d.file, d.line, d.col)))
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0].headline() if errors else "no errors"
        super().__init__(f"{len(errors)} error(s); first: {first}")
