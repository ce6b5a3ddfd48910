"""Flow files as the studio sees them: listed from a folder, read, compiled, saved back.

The file on disk stays the source of truth: the editor always starts from it and saving
writes the editor's text to it unchanged. Compiling goes through ``dsl`` exactly as the CLI
does; the studio adds nothing to the diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsl import ir
from dsl.diagnostics import Diagnostic

FLOW_SUFFIXES = (".flow", ".flow.yaml", ".flow.yml")


class CompilerMissing(Exception):
    """The installed ``dsl`` package has no compiler entry point yet."""


@dataclass(frozen=True)
class Compiled:
    flow: ir.Flow | None
    """The IR, or ``None`` when the file has errors."""
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)


def is_flow_file(path: Path) -> bool:
    return path.is_file() and path.name.endswith(FLOW_SUFFIXES)


def list_flows(folder: Path) -> list[Path]:
    """Flow files under ``folder`` (recursively), sorted by relative path."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.rglob("*") if is_flow_file(p)), key=lambda p: str(p))


def syntax_of(path: Path | str) -> str:
    """``"flow"`` or ``"yaml"``, from the file name."""
    return "flow" if str(path).endswith(".flow") else "yaml"


def stem_of(path: Path) -> str:
    """The flow's name without any flow suffix: ``reminder`` for ``reminder.flow.yaml``."""
    name = path.name
    for suffix in sorted(FLOW_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def compile_text(text: str, filename: str) -> Compiled:
    """Compile a flow's source text with ``dsl.compile_source``."""
    import dsl

    compile_source = getattr(dsl, "compile_source", None)
    if compile_source is None:
        raise CompilerMissing("dsl.compile_source is not available in this installation")
    result = compile_source(text, filename=filename)
    diagnostics = tuple(sorted(result.diagnostics, key=lambda d: (d.line, d.col, d.code)))
    flow = result.flow if not any(d.is_error for d in diagnostics) else None
    return Compiled(flow=flow, diagnostics=diagnostics)


def save(path: Path, text: str) -> None:
    """Write the editor's text to the flow file, atomically (a crash leaves the old file)."""
    tmp = path.with_name(f".{path.name}.studio-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
