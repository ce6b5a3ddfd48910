"""The compiler pipeline: source → document tree → IR + source map → rules → result.

``compile_source`` never raises on bad input: every problem, whatever the stage, comes back as
a diagnostic in ``CompileResult``. A compiler bug (an exception no input should cause) is not
swallowed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dsl import ir
from dsl.build import SourceMap, build
from dsl.diagnostics import CompileError, Diagnostic
from dsl.limits import MAX_SOURCE_BYTES, check_source, too_large
from dsl.parser import FlowSyntaxError, parse_flow
from dsl.rules import RuleContext, run_rules
from dsl.yaml_loader import YamlSyntaxError, load_yaml

COMPILES = {"ok": 0, "error": 0}
"""Compiles of this process by result, as plain ints: the metrics exporter reads them when
scraped (``runtime/observability/metrics.py``); the compiler itself does no I/O."""


def _counted(result: CompileResult) -> CompileResult:
    COMPILES["ok" if result.ok else "error"] += 1
    return result


@dataclass(frozen=True)
class CompileResult:
    """The outcome of compiling one flow file.

    ``flow`` is set when there are no errors (warnings allowed).
    """

    file: str
    source: str
    flow: ir.Flow | None
    diagnostics: tuple[Diagnostic, ...] = ()
    source_map: SourceMap = field(default_factory=SourceMap, compare=False, repr=False)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def ok(self) -> bool:
        return self.flow is not None

    def unwrap(self) -> ir.Flow:
        """The IR, or ``CompileError`` carrying every diagnostic."""
        if self.flow is None:
            raise CompileError(self.diagnostics)
        return self.flow


def syntax_of(path: str | Path) -> str:
    """``yaml`` for ``*.yaml``/``*.yml`` (``*.flow.yaml``), ``flow`` otherwise."""
    return "yaml" if str(path).endswith((".yaml", ".yml")) else "flow"


def compile_source(
    source: str, *, file: str = "<flow>", syntax: str | None = None
) -> CompileResult:
    """Compile flow text (``syntax`` ``flow`` or ``yaml``; guessed from ``file`` if omitted)."""
    with _gc_paused():
        return _counted(_compile(source, file, syntax or syntax_of(file)))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector during a compile.

    A compile allocates a few hundred thousand small objects that all stay alive until it
    ends (tokens, the document tree, IR); the collector would walk them again and again
    (about a quarter of the CPU time on big flows) and find no garbage. Reference counting
    still frees everything as usual; the collector runs again as soon as the compile ends.
    Left alone if someone else has already disabled it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _compile(source: str, file: str, syntax: str) -> CompileResult:
    over = check_source(source, file)  # before any parser: a hostile source costs one scan
    if over is not None:
        return CompileResult(file, source, None, (over,))
    try:
        doc = load_yaml(source, file) if syntax == "yaml" else parse_flow(source, file)
    except (FlowSyntaxError, YamlSyntaxError) as e:
        return CompileResult(file, source, None, _sorted(e.diagnostics))
    built = build(doc, file)
    diags = list(built.diagnostics)
    if built.flow is not None:
        diags.extend(run_rules(RuleContext(built.flow, built.source_map, file)))
    diags = _sorted(_unique(diags))
    ok = built.flow is not None and not any(d.is_error for d in diags)
    return CompileResult(file, source, built.flow if ok else None, diags, built.source_map)


def compile_file(path: str | Path) -> CompileResult:
    """Compile a ``*.flow`` or ``*.flow.yaml`` file (diagnostics name it as given)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_SOURCE_BYTES:  # refused before it is read into memory
            d = too_large(str(path), f"the file is {size} bytes; at most {MAX_SOURCE_BYTES}")
            return _counted(CompileResult(str(path), "", None, (d,)))
        source = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        d = Diagnostic(
            str(path),
            1,
            1,
            "VF101",
            f"cannot read the file: {e}",
            "check the path and that it is UTF-8 text",
        )
        return _counted(CompileResult(str(path), "", None, (d,)))
    return compile_source(source, file=str(path), syntax=syntax_of(p))


def load_flow(path: str | Path) -> ir.Flow:
    """The IR of a flow file, or ``CompileError`` with every diagnostic."""
    return compile_file(path).unwrap()


def _unique(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.line, d.col, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _sorted(diags) -> tuple[Diagnostic, ...]:
    return tuple(sorted(diags, key=lambda d: (d.line, d.col, d.code)))
