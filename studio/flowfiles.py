"""Flow files as the studio sees them: listed from a folder, read, compiled, saved back.

The file on disk stays the source of truth: the editor always starts from it and saving
writes the editor's text to it unchanged. Compiling goes through ``dsl`` exactly as the CLI
does; the studio adds nothing to the diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsl import compile_source, ir
from dsl.compiler import syntax_of
from dsl.diagnostics import Diagnostic
from dsl.format import leading_comment, to_flow, to_yaml

FLOW_SUFFIXES = (".flow", ".flow.yaml", ".flow.yml")


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


def stem_of(path: Path) -> str:
    """The flow's name without any flow suffix: ``reminder`` for ``reminder.flow.yaml``."""
    name = path.name
    for suffix in sorted(FLOW_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def compile_text(text: str, filename: str) -> Compiled:
    """Compile a flow's source text exactly as ``voxflow check`` does (``dsl.compile_source``)."""
    result = compile_source(text, file=filename, syntax=syntax_of(filename))
    return Compiled(flow=result.flow, diagnostics=tuple(result.diagnostics))


def convert(flow: ir.Flow, source: str, to: str) -> str:
    """The flow written in the other syntax (``flow`` or ``yaml``), keeping its header comment."""
    header = leading_comment(source)
    return to_flow(flow, header=header) if to == "flow" else to_yaml(flow, header=header)


def converted_path(path: Path, to: str) -> Path:
    """Where ``convert`` output goes: the same stem with the other syntax's suffix."""
    return path.with_name(stem_of(path) + (".flow" if to == "flow" else ".flow.yaml"))


def save(path: Path, text: str) -> None:
    """Write the editor's text to the flow file, atomically (a crash leaves the old file)."""
    tmp = path.with_name(f".{path.name}.studio-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
