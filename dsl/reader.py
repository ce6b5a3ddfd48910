"""Typed reading of the located document tree, reporting structural problems as diagnostics.

``Reader`` is what ``dsl.build`` uses to take a key's value as a string, an integer, a
duration, a list...: when the value has the wrong shape it reports ``VF202`` at the value's
position and returns ``None`` so building goes on and every problem is reported at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache

from dsl.ast import Map, Pos, Scalar, Seq, Value, kind_of
from dsl.diagnostics import Diagnostic, Severity
from dsl.types import parse_duration


class Reader:
    def __init__(self, file: str):
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def report(
        self,
        pos: Pos,
        code: str,
        message: str,
        hint: str = "",
        *,
        warning: bool = False,
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                self.file,
                pos.line,
                pos.col,
                code,
                message,
                hint,
                Severity.WARNING if warning else Severity.ERROR,
            )
        )

    def mapping(
        self,
        value: Value | None,
        where: str,
        *,
        allowed: Iterable[str],
        required: Iterable[str] = (),
        at: Pos | None = None,
    ) -> Map | None:
        """``value`` as a mapping whose keys are all ``allowed`` and include ``required``.

        Unknown keys are ``VF201`` (with the closest known key as hint), a key written twice
        is ``VF211``, a missing required key ``VF203``.
        """
        if value is None:
            return None
        if not isinstance(value, Map):
            self.wrong(value, where, "a mapping of keys")
            return None
        allowed = list(allowed)
        seen: set[str] = set()
        for k, _ in value.entries:
            if k.raw not in allowed:
                close = difflib.get_close_matches(k.raw, allowed, n=1)
                self.report(
                    k.pos,
                    "VF201",
                    f"unknown key {k.raw!r} in {where}",
                    f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(allowed),
                )
            elif k.raw in seen:
                self.report(
                    k.pos,
                    "VF211",
                    f"{k.raw!r} is given twice in {where}",
                    "keep one of them",
                )
            seen.add(k.raw)
        for r in required:
            if r not in seen:
                self.report(
                    at or value.pos,
                    "VF203",
                    f"{where} is missing the required key {r!r}",
                    f"add {r}: ...",
                )
        return value

    def names(self, value: Map, where: str, *, code: str = "VF211") -> list[tuple[Scalar, Value]]:
        """Entries of a name → definition mapping; a name defined twice is reported once."""
        out, seen = [], set()
        for k, v in value.entries:
            if k.raw in seen:
                self.report(
                    k.pos,
                    code,
                    f"{where} {k.raw!r} is defined twice",
                    f"rename or remove one of the {where}s named {k.raw!r}",
                )
                continue
            seen.add(k.raw)
            out.append((k, v))
        return out

    def wrong(self, value: Value, where: str, expected: str) -> None:
        self.report(
            value.pos,
            "VF202",
            f"{where} must be {expected}, not a {kind_of(value)}",
            f"write {where} as {expected}",
        )

    def string(self, value: Value | None, where: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, Scalar) and value.tag != "null":
            return value.raw
        self.wrong(value, where, "a string")
        return None

    def name(self, value: Value | None, where: str) -> str | None:
        s = self.string(value, where)
        if s is not None and not s.isidentifier():
            self.report(
                value.pos,
                "VF202",
                f"{where} must be a name (letters, digits, _), not {s!r}",
                "use letters, digits and underscores, starting with a letter",
            )
            return None
        return s

    def integer(self, value: Value | None, where: str, *, minimum: int = 0) -> int | None:
        if value is None:
            return None
        if isinstance(value, Scalar) and value.tag == "int" and isinstance(value.value, int):
            if value.value < minimum:
                self.report(
                    value.pos,
                    "VF202",
                    f"{where} must be at least {minimum}, not {value.value}",
                    f"use a whole number >= {minimum}",
                )
                return None
            return value.value
        self.wrong(value, where, "a whole number")
        return None

    def number(self, value: Value | None, where: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, Scalar) and value.tag in ("int", "float"):
            return float(value.value)  # type: ignore[arg-type]
        self.wrong(value, where, "a number")
        return None

    def boolean(self, value: Value | None, where: str) -> bool | None:
        if value is None:
            return None
        if isinstance(value, Scalar) and value.tag == "bool":
            return bool(value.value)
        self.wrong(value, where, "true or false")
        return None

    def strings(self, value: Value | None, where: str) -> list[Scalar]:
        """A list of strings; a single string is a list of one."""
        if value is None:
            return []
        items = value.items if isinstance(value, Seq) else [value]
        out = []
        for item in items:
            if isinstance(item, Scalar) and item.tag != "null":
                out.append(item)
            else:
                self.wrong(item, where, "a string or a list of strings")
        return out

    def duration_ms(self, value: Value | None, where: str) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Scalar) or value.tag in ("null", "bool"):
            self.wrong(value, where, "a duration such as 30s, 15m, 2h")
            return None
        ms, error = _duration_ms(value.raw)
        if error is not None:
            self.report(value.pos, "VF111", error, "write e.g. 500ms, 30s, 15m, 2h or 1d")
            return None
        return ms

    def choice(self, value: Value | None, where: str, options: Iterable[str]) -> str | None:
        s = self.string(value, where)
        options = list(options)
        if s is not None and s not in options:
            close = difflib.get_close_matches(s, options, n=1)
            self.report(
                value.pos,
                "VF202",
                f"{where} must be one of {', '.join(options)}, not {s!r}",
                f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(options)}",
            )
            return None
        return s


@lru_cache(maxsize=1024)
def _duration_ms(text: str) -> tuple[int | None, str | None]:
    """Milliseconds of a duration, or the error message; a flow repeats the same few
    durations (``6s`` on every node), so readings are cached by text."""
    try:
        td = parse_duration(text)
    except ValueError as e:
        return None, str(e)
    return round(td.total_seconds() * 1000), None
