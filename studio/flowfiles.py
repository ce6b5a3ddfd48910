"""Flow files as the studio sees them: listed from a folder, read, compiled, saved back.

The file on disk stays the source of truth: the editor always starts from it and saving
writes the editor's text to it unchanged. Compiling goes through ``dsl`` exactly as the CLI
does; the studio adds nothing to the diagnostics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from dsl import compile_source, ir
from dsl.comments import format_source
from dsl.compiler import syntax_of
from dsl.diagnostics import Diagnostic

FLOW_SUFFIXES = (".flow", ".flow.yaml", ".flow.yml")
EDITOR_MODES = {"yaml": "yaml", "flow": "python"}
"""Ace mode per syntax. Ace has no mode for ``.flow``; Python's is the closest fit: ``#``
comments, double-quoted strings, numbers, indentation folding and ``and``/``or``/``not``."""
EDITOR_THEME = "textmate"
"""Ace's own light theme, bundled with the component: its ``streamlit_light``/``dark`` themes
``@import`` a font from fonts.googleapis.com (seen in ``code_editor/frontend/build``), which
fails offline; textmate loads nothing."""
PLAIN_EDITOR_ENV = "VOXFLOW_STUDIO_PLAIN_EDITOR"
"""Set (to anything) to edit in a plain text area instead of the Ace editor component."""
MARKER_CSS = (
    ".vf-marker-error{position:absolute;border-bottom:2px solid #e5484d;}"
    ".vf-marker-warning{position:absolute;border-bottom:2px solid #f5a524;}"
)
"""Styles of the diagnostic markers, injected into the editor component's frame."""
CHANGE_DEBOUNCE_MS = 250
"""How long after a keystroke the editor component sends its text as a ``change`` event
(react-ace's ``debounceChangePeriod``, which streamlit-code-editor 0.1.22 sets to 250 ms in
its ``CodeEditor.tsx``)."""
SAVE_AFTER_MS = CHANGE_DEBOUNCE_MS + 100
"""How long Save waits before it sends the text: the ``change`` of a keystroke typed just
before Save is then always sent first."""
SAVE_BUTTON = {
    "name": "Save",
    "feather": "Save",
    "primary": True,
    "hasText": True,
    "showWithIcon": True,
    "alwaysOn": True,
    "bindKey": {"win": "Ctrl-Enter", "mac": "Command-Enter"},
    "commands": [["delayedExecute", {"command": "submit", "timeout": SAVE_AFTER_MS}]],
    "style": {"top": "0.3rem", "right": "0.4rem"},
}
"""The editor's own Save button, also on Ctrl+Enter: sends the editor's text as a ``submit``
event once the pending ``change`` has gone.

The component hands Streamlit one value at a time and Streamlit acts on the latest only: a
newer value replaces a rerun request still waiting, and a rerun ends the running script at the
next element it draws. A ``change`` sent after the ``submit`` (a keystroke less than 250 ms
before Save) would take the save with it; it is sent before instead.
"""
EDITOR_KEYBINDINGS = {
    "commands": [
        {"name": "submit", "bindkey": {"win": "", "mac": ""}},
        {"name": "exitSession", "bindkey": {"win": "", "mac": ""}},
    ]
}
"""Takes Ctrl+Enter from the component's own ``submit`` command, which sends at once: the
key is the Save button's (above). Takes Esc from its ``exitSession`` (which leaves its
snippet and key-binding editors, not offered here), so that Esc reaches Ace's keyboard
accessibility command, which hands the focus back to the page (the Flows page's editor)."""


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
    """Flow files under ``folder`` (recursively), sorted by relative path; a file or folder
    that is a link leading outside ``folder`` is left out (the studio reads and writes only
    the flows folder)."""
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.rglob("*") if is_flow_file(p) and inside(folder, p)),
        key=lambda p: str(p),
    )


def inside(folder: Path, path: Path) -> bool:
    """Whether ``path``, links resolved, is within ``folder``."""
    return path.resolve().is_relative_to(folder.resolve())


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


def convert(source: str, path: Path, to: str) -> str:
    """The flow of ``source`` (the text of ``path``) in the other syntax (``flow`` or
    ``yaml``), with every comment (``dsl.comments``). ``source`` must compile."""
    return format_source(compile_source(source, file=str(path), syntax=syntax_of(path)), to)


def converted_path(path: Path, to: str) -> Path:
    """Where ``convert`` output goes: the same stem with the other syntax's suffix."""
    return path.with_name(stem_of(path) + (".flow" if to == "flow" else ".flow.yaml"))


def save(path: Path, text: str, folder: Path | None = None) -> None:
    """Write the editor's text to the flow file, atomically (a crash leaves the old file).

    Raises:
        PermissionError: ``path`` leads outside ``folder`` (a link).
    """
    if folder is not None and not inside(folder, path):
        raise PermissionError(f"{path} leads outside the flows folder {folder}")
    tmp = path.with_name(f".{path.name}.studio-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def editor_mode(path: Path | str) -> str:
    """The Ace editor mode that highlights ``path``'s syntax."""
    return EDITOR_MODES[syntax_of(path)]


def annotations(diagnostics: tuple[Diagnostic, ...]) -> list[dict[str, object]]:
    """Diagnostics as Ace gutter annotations (0-based ``row``/``column``, ``error``/``warning``)."""
    return [
        {
            "row": max(d.line - 1, 0),
            "column": max(d.col - 1, 0),
            "type": d.severity.value,
            "text": f"{d.code}: {d.message}" + (f" (hint: {d.hint})" if d.hint else ""),
        }
        for d in diagnostics
    ]


def markers(diagnostics: tuple[Diagnostic, ...], source: str) -> list[dict[str, object]]:
    """Diagnostics as Ace text markers underlining their span (to the end of the word).

    A diagnostic without an end position marks from its column to the end of the word there
    (at least one character), so a misspelt name is underlined whole.
    """
    lines = source.splitlines()
    out: list[dict[str, object]] = []
    for d in diagnostics:
        row = d.line - 1
        if not 0 <= row < len(lines):
            continue
        start = max(d.col - 1, 0)
        if (
            d.end_line is not None
            and d.end_col is not None
            and (d.end_line, d.end_col)
            > (
                d.line,
                d.col,
            )
        ):
            end_row, end = d.end_line - 1, d.end_col - 1
        else:
            text = lines[row]
            end = start
            while end < len(text) and (text[end].isalnum() or text[end] in "_."):
                end += 1
            end_row, end = row, max(end, start + 1)
        out.append(
            {
                "startRow": row,
                "startCol": start,
                "endRow": end_row,
                "endCol": end,
                "className": f"vf-marker-{d.severity.value}",
                "type": "text",
                "inFront": True,  # above the active-line highlight of the line being edited
            }
        )
    return out


@dataclass(frozen=True)
class EditorEvent:
    """One event the Ace editor component sent: the editor's whole text and why it sent it."""

    id: str
    """Fresh per event; the component keeps returning its last event on every rerun."""
    kind: str
    """``change`` (typing paused), ``blur`` (focus left the editor) or ``submit`` (Ctrl+Enter)."""
    text: str

    @property
    def submitted(self) -> bool:
        return self.kind == "submit"

    @classmethod
    def of(cls, value: Any) -> EditorEvent | None:
        """The component's value as an event, ``None`` before the designer touched the editor."""
        if (
            not isinstance(value, dict)
            or not value.get("id")
            or not isinstance(value.get("text"), str)
        ):
            return None
        return cls(id=str(value["id"]), kind=str(value.get("type", "")), text=value["text"])


def ace_editor() -> Callable[..., Any] | None:
    """The Ace editor component (``streamlit-code-editor``) with Ctrl+Enter left to
    :data:`SAVE_BUTTON`, or ``None`` for a plain text area.

    ``None`` when the package is not installed or ``VOXFLOW_STUDIO_PLAIN_EDITOR`` is set.
    """
    if os.environ.get(PLAIN_EDITOR_ENV):
        return None
    try:
        from code_editor import code_editor
    except ImportError:
        return None
    return partial(code_editor, keybindings=EDITOR_KEYBINDINGS)


@cache
def _keywords(syntax: str) -> tuple[str, ...]:
    """The language's own words: the ``.flow`` grammar's keywords, or the YAML schema's keys."""
    if syntax == "flow":
        from dsl.parser import GRAMMAR

        return tuple(sorted(set(re.findall(r'"([a-z_]+)"', GRAMMAR.read_text(encoding="utf-8")))))
    from dsl.schema import flow_schema

    def keys(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for name, value in node.items():
                if name == "properties" and isinstance(value, dict):
                    yield from value
                yield from keys(value)
        elif isinstance(node, list):
            for item in node:
                yield from keys(item)

    return tuple(sorted(set(keys(flow_schema()))))


def completions(path: Path | str, flow: ir.Flow | None) -> list[dict[str, object]]:
    """Ace completions: the syntax's keywords, then the names the flow defines (nodes, tools,
    context fields, outcomes) when it compiles."""
    out: list[dict[str, object]] = [
        {"caption": word, "value": word, "meta": "keyword", "score": 100}
        for word in _keywords(syntax_of(path))
    ]
    if flow is not None:
        agent = flow.agent
        names = [(n.name, "node") for n in agent.nodes]
        names += [(t.name, "tool") for t in agent.tools]
        names += [(f"contact.{f.name}", "context") for f in agent.context]
        names += [(o, "outcome") for o in agent.outcomes]
        out += [{"caption": n, "value": n, "meta": meta, "score": 200} for n, meta in names]
    return out
