"""Templates of the flow language: Jinja2 in a sandbox, checked against the context.

Every template (``say``, ``task``, persona, tool URLs and bodies…) renders in one
``ImmutableSandboxedEnvironment`` with ``StrictUndefined``: a template cannot reach Python
internals (``''.__class__``), mutate values, or read a name the render was not given.
``check_template`` finds at compile time what would fail at run time: syntax errors (VF120),
undefined dotted names, however deeply nested (VF302), unknown filters and tests (VF304).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
    nodes,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from dsl import bounds
from dsl.bounds import MAX_OUTPUT, MAX_TEXT, BoundExceeded
from dsl.diagnostics import Diagnostic
from dsl.template_sandbox import BoundedSandbox, static_excess
from dsl.types import ANY, RecordType, Scope
from dsl.voice import SETTINGS_KEY, VOICE_FILTERS, VoiceSettings

MAX_SEQUENCE = MAX_TEXT
"""Longest text or list a template may build (so a flow cannot exhaust memory)."""


VOICE_INPUTS: dict[str, tuple[frozenset[str], str]] = {
    "day": (frozenset({"date", "datetime", "str"}), "a date or datetime"),
    "time": (frozenset({"time", "datetime", "str"}), "a time or datetime"),
    "when": (frozenset({"datetime", "date", "str"}), "a datetime"),
    "money": (frozenset({"money", "int", "float", "str"}), "an amount"),
    "duration": (frozenset({"duration", "int", "float", "str"}), "a duration"),
    "phone": (frozenset({"phone", "str", "digits"}), "a phone number"),
    "digits": (frozenset({"digits", "str", "int", "phone"}), "digits"),
}
"""Context types each voice filter accepts (``str`` too: text is parsed when rendered)."""


class TemplateRenderError(Exception):
    """A template could not be rendered: undefined value, sandbox refusal, bad filter input."""


@lru_cache(maxsize=1)
def template_env() -> ImmutableSandboxedEnvironment:
    """The one template environment: sandboxed, strict, no autoescape, voice filters, every
    operation bounded (``dsl.template_sandbox``)."""
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters.update(VOICE_FILTERS)
    env.bound_filters()
    return env


@lru_cache(maxsize=4096)
def _compiled(src: str) -> Template:
    return template_env().from_string(src)


def render(
    src: str,
    values: Mapping[str, Any],
    *,
    tz: str = "UTC",
    locale: str = "en-US",
    now: datetime | None = None,
) -> str:
    """Render a template with ``values`` (nested mappings: ``{"contact": {...}}``).

    Args:
        tz: the contact's time zone, for voice filters that say dates and times.
        locale: voice locale (``en-*``; others currently fall back to English).
        now: reference for relative phrases (``when``); default ``values["now"]``, else the
            clock.

    Raises:
        TemplateRenderError: every failure (syntax, undefined name, sandbox refusal, a filter
            given a value it cannot say, a bound of ``dsl.bounds`` exceeded: too many steps,
            too long, too large a value or output), with a message naming the cause.
    """
    if now is None and isinstance(values.get("now"), datetime):
        now = values["now"]
    settings = VoiceSettings(tz=tz, locale=locale, now=now)
    try:
        template = _compiled(src)
        with bounds.budget():
            return _bounded_output(template.generate({**values, SETTINGS_KEY: settings}))
    except BoundExceeded as exc:
        raise TemplateRenderError(f"template exceeds a bound: {exc}") from None
    except RecursionError:
        raise TemplateRenderError("template nests too deeply") from None
    except SecurityError as exc:
        raise TemplateRenderError(f"template refused by the sandbox: {exc}") from None
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(
            f"template syntax error line {exc.lineno}: {exc.message}"
        ) from None
    except UndefinedError as exc:
        raise TemplateRenderError(f"template reads an undefined value: {exc.message}") from None
    except TemplateError as exc:
        raise TemplateRenderError(f"template failed: {exc.message or exc}") from None
    except Exception as exc:  # a filter or a value's method failed on bad input
        raise TemplateRenderError(f"template failed: {type(exc).__name__}: {exc}") from None


def _bounded_output(pieces: Iterator[str]) -> str:
    out, length = [], 0
    for piece in pieces:
        length += len(piece)
        if length > MAX_OUTPUT:
            raise BoundExceeded(f"the template renders more than {MAX_OUTPUT} characters")
        out.append(piece)
    return "".join(out)


def check_template(
    src: str, scope: Scope, *, file: str, line: int = 1, col: int = 1
) -> list[Diagnostic]:
    """Every problem of a template, positioned in the flow file.

    Args:
        scope: the names the template may read.
        line, col: where the template text starts in the flow file.

    Codes: VF120 syntax error (and ``include``/``extends``/``import``, which have nothing to
    load), VF302 undefined name (hint: the closest known name), VF304 unknown filter or test,
    VF310 a bound of ``dsl.bounds`` that constants already exceed (``range(10**6)``).
    """
    if "{{" not in src and "{%" not in src and "{#" not in src:
        return []  # plain text: nothing to check (most say/task lines)
    env = template_env()
    try:
        tree = env.parse(src)
    except RecursionError:
        return [
            Diagnostic(
                file,
                line,
                col,
                "VF310",
                "the template nests too deeply",
                "split it into several templates or variables",
            )
        ]
    except TemplateSyntaxError as exc:
        lineno = exc.lineno or 1
        index = _syntax_error_column(env, src, lineno, exc.message)
        return [
            Diagnostic(
                file,
                line + lineno - 1,
                col + index if lineno == 1 else index + 1,
                "VF120",
                f"template syntax error: {exc.message}",
                "check the {{ }} and {% %} pairs and the expression inside",
            )
        ]
    checker = _TemplateChecker(src, scope, file, line, col, env)
    checker.visit_body(tree.body, set(env.globals))
    for node, text, message in static_excess(tree):
        checker.report(
            node,
            text,
            "VF310",
            f"the template exceeds a bound: {message}",
            "use smaller numbers; a spoken line needs far less",
        )
    return checker.diagnostics


_DEFINES_ON_CALL = {"varargs", "kwargs", "caller"}


_OPENER = re.compile(r"\{[{%#]")
_CLOSER = {"{{": "}}", "{%": "%}", "{#": "#}"}


def _syntax_error_column(env, src: str, lineno: int, message: str | None) -> int:
    """0-based column of the tag that breaks on line ``lineno`` (Jinja reports no column):
    the first tag of that line such that the text up to its end fails the same way."""
    lines = src.splitlines(keepends=True) or [""]
    if lineno > len(lines):
        return 0
    line_start = sum(len(x) for x in lines[: lineno - 1])
    for m in _OPENER.finditer(lines[lineno - 1]):
        start = line_start + m.start()
        close = src.find(_CLOSER[m.group()], start + 2)
        prefix = src if close < 0 else src[: close + 2]
        try:
            env.parse(prefix)
        except TemplateSyntaxError as exc:
            if exc.message == message and (exc.lineno or 1) == lineno:
                return m.start()
    return 0


class _TemplateChecker:
    def __init__(self, src, scope, file, line, col, env):
        self.lines = src.splitlines() or [""]
        self.scope, self.file, self.line, self.col, self.env = scope, file, line, col, env
        self.diagnostics: list[Diagnostic] = []
        self._seen: dict[tuple[int, str], int] = {}

    # positions -------------------------------------------------------------------------------

    def position(self, lineno: int, text: str) -> tuple[int, int]:
        """File position of the n-th occurrence of ``text`` on template line ``lineno``."""
        source = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        nth = self._seen.get((lineno, text), 0)
        self._seen[(lineno, text)] = nth + 1
        if text.startswith("."):  # an attribute: find ".name", point at the name
            found = [m.start() + 1 for m in re.finditer(rf"\.\s*{re.escape(text[1:])}\b", source)]
        else:
            found = _occurrences(text, source) or _occurrences(text.split(".")[0], source)
        index = found[nth] if nth < len(found) else (found[0] if found else 0)
        at_line = self.line + lineno - 1
        return at_line, (self.col + index if lineno == 1 else index + 1)

    def report(self, node: nodes.Node, text: str, code: str, message: str, hint: str) -> None:
        at_line, at_col = self.position(node.lineno, text)
        self.diagnostics.append(Diagnostic(self.file, at_line, at_col, code, message, hint))

    # walking ---------------------------------------------------------------------------------

    def visit_body(self, body: list[nodes.Node], local: set[str]) -> None:
        for n in body:
            self.visit(n, local)

    def visit(self, node: nodes.Node | None, local: set[str]) -> None:
        if node is None:
            return
        if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            self.reference(node, local, method=False)
        elif isinstance(node, nodes.Call):
            if isinstance(node.node, nodes.Getattr | nodes.Getitem):
                self.reference(node.node, local, method=True)
            else:
                self.visit(node.node, local)
            self.visit_args(node, local)
        elif isinstance(node, nodes.Filter | nodes.Test):
            self.filter_or_test(node, local)
        elif isinstance(node, nodes.For):
            self.visit(node.iter, local)
            inner = local | set(_targets(node.target)) | {"loop"}
            self.visit(node.test, inner)
            self.visit_body(node.body, set(inner))
            self.visit_body(node.else_, set(local))
        elif isinstance(node, nodes.Assign):
            self.visit(node.node, local)
            local.update(_targets(node.target))
        elif isinstance(node, nodes.AssignBlock):
            self.visit_body(node.body, set(local))
            if node.filter is not None:
                self.filter_or_test(node.filter, local)
            local.update(_targets(node.target))
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            for d in node.defaults:
                self.visit(d, local)
            if isinstance(node, nodes.Macro):
                local.add(node.name)
            else:
                self.visit(node.call, local)
            inner = local | {a.name for a in node.args} | _DEFINES_ON_CALL
            self.visit_body(node.body, inner)
        elif isinstance(node, nodes.With):
            for v in node.values:
                self.visit(v, local)
            inner = local | {n for t in node.targets for n in _targets(t)}
            self.visit_body(node.body, inner)
        elif isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
            self.report(
                node,
                "",
                "VF120",
                "templates cannot include, import or extend other templates",
                "write the text inline, or use a macro in the same template",
            )
        else:
            for child in node.iter_child_nodes():
                self.visit(child, local)

    def visit_args(self, node: nodes.Call | nodes.Filter | nodes.Test, local: set[str]) -> None:
        for a in node.args:
            self.visit(a, local)
        for kw in node.kwargs:
            self.visit(kw.value, local)
        self.visit(node.dyn_args, local)
        self.visit(node.dyn_kwargs, local)

    def filter_or_test(self, node: nodes.Filter | nodes.Test, local: set[str]) -> None:
        self.visit(node.node, local)
        self.visit_args(node, local)
        known = self.env.filters if isinstance(node, nodes.Filter) else self.env.tests
        if node.name not in known:
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            close = difflib.get_close_matches(node.name, list(known), n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else f"known {kind}s: " + ", ".join(sorted(known))
            )
            self.report(node, node.name, "VF304", f"unknown {kind} {node.name!r}", hint)
        elif isinstance(node, nodes.Filter) and node.name in VOICE_INPUTS and node.node:
            self.voice_input(node, local)

    def voice_input(self, node: nodes.Filter, local: set[str]) -> None:
        """VF303 when a voice filter is given a context value it cannot say (``str | day``)."""
        parts = _chain(node.node)
        if parts is None or parts[0] in local:
            return
        t = self.scope.lookup(".".join(parts))
        kinds, what = VOICE_INPUTS[node.name]
        if t is None or t == ANY or t.kind in kinds:
            return
        self.report(
            node,
            node.name,
            "VF303",
            f"the {node.name!r} filter says {what}, but {'.'.join(parts)!r} is {t}",
            f"apply {node.name!r} to {what}, or use another filter",
        )

    def reference(self, node: nodes.Expr, local: set[str], *, method: bool) -> None:
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            # The sandbox refuses these at run time; say so before a call is placed.
            self.report(
                node,
                "." + node.attr,
                "VF302",
                f"templates cannot read the private attribute {node.attr!r}",
                "read a field of the context instead",
            )
            return
        parts = _chain(node)
        if parts is None:  # e.g. (a | f).b or x[y]: check the parts that are expressions
            for child in node.iter_child_nodes():
                self.visit(child, local)
            return
        if parts[0] in local:
            return
        dotted = ".".join(parts)
        if self.scope.lookup(dotted) is not None:
            return
        for cut in range(len(parts) - 1, 0, -1):
            head = ".".join(parts[:cut])
            t = self.scope.lookup(head)
            if t is None:
                continue
            if t == ANY:
                return
            if not isinstance(t, RecordType) and method and cut == len(parts) - 1:
                return  # a method of a value: contact.first_name.upper()
            missing = ".".join(parts[: cut + 1])
            what = (
                f"{missing!r} is not defined"
                if isinstance(t, RecordType)
                else f"{head!r} is a {t} and has no member {parts[cut]!r}"
            )
            self.undefined(node, missing, what, isinstance(t, RecordType))
            return
        self.undefined(node, dotted, f"{dotted!r} is not defined")

    def undefined(self, node: nodes.Node, dotted: str, message: str, suggest: bool = True) -> None:
        close = self.scope.suggest(dotted) if suggest else None
        hint = f"did you mean {close!r}?" if close else "declare it in the context or a variable"
        if not suggest:
            hint = "a plain value has no members; read the value itself"
        self.report(node, dotted, "VF302", message, hint)


def _occurrences(text: str, source: str) -> list[int]:
    return [m.start() for m in re.finditer(rf"(?<![\w.]){re.escape(text)}(?!\w)", source)]


def _chain(node: nodes.Expr) -> list[str] | None:
    """``contact.address.city`` / ``contact['address'].city`` as parts, else ``None``."""
    parts: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            parts.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            parts.append(node.name)
            return parts[::-1]
        else:
            return None


def _targets(target: nodes.Node) -> Iterator[str]:
    if isinstance(target, nodes.Name):
        yield target.name
    elif isinstance(target, nodes.Tuple):
        for item in target.items:
            yield from _targets(item)
    elif isinstance(target, nodes.NSRef):
        yield target.name
