"""Flow files created, duplicated, renamed and deleted from the studio, inside the flows folder.

A flow's name is its file's stem; it must be a safe name (letters, digits, ``_`` and ``-``,
starting with a letter or digit), so no name can climb out of the folder or hide a file, and
the result is checked to lie inside the folder once more (links resolved). A flow's
conversation tests file (``<stem>.tests.yaml``) follows it: copied with a duplicate, moved
with a rename, deleted with it. Nothing is overwritten: an existing target is an error.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from studio.chat import tests_path_for
from studio.flowfiles import inside, save, stem_of

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
SUFFIX = {"flow": ".flow", "yaml": ".flow.yaml"}
NEW_FLOW = """# {name}: a new flow. Check it with `voxflow check`, try it on the Test chat page.
agent {name}
  persona "You are Ava. Be brief: this is a phone call."
  outcomes done
  start greet

  node greet
    say "Hello, this is Ava."
    task "Ask how you can help."
    on done "The caller has what they needed" -> goodbye
      examples "that's all", "thanks, bye"

  node goodbye
    say "Thank you, goodbye!"
    end done
"""
"""A new flow that compiles without a warning: a greeting, one intent, an end."""


class FlowFileError(ValueError):
    """A name or a target the studio refuses; the message says why and what to do."""


def check_name(name: str) -> str:
    """``name`` stripped, when it is a safe flow name.

    Raises:
        FlowFileError: a name with a path separator, a dot, spaces or other characters.
    """
    name = name.strip()
    if not NAME.fullmatch(name):
        raise FlowFileError(
            f"{name!r} is not a flow name: use 1-64 letters, digits, '_' or '-', starting"
            " with a letter or digit (no '/', '.', or spaces), e.g. billing_reminder"
        )
    return name


def _target(folder: Path, name: str, syntax: str, *, beside: Path | None = None) -> Path:
    directory = beside.parent if beside is not None else folder
    path = directory / (check_name(name) + SUFFIX[syntax])
    if not inside(folder, path.parent):
        raise FlowFileError(f"{path} lies outside the flows folder {folder}")
    existing = [p for p in (path, tests_path_for(path)) if p.exists() or p.is_symlink()]
    if existing:
        raise FlowFileError(f"{existing[0].name} already exists; pick another name")
    return path


def _syntax(path: Path) -> str:
    return "yaml" if path.name.endswith((".flow.yaml", ".flow.yml")) else "flow"


def _own(folder: Path, path: Path) -> None:
    if not inside(folder, path):
        raise FlowFileError(f"{path} lies outside the flows folder {folder}")


def create(folder: Path, name: str, syntax: str = "flow") -> Path:
    """A new flow file ``<name>.flow`` (or ``.flow.yaml``) holding a small flow that compiles."""
    from dsl import compile_source
    from dsl.format_yaml import to_yaml

    path = _target(folder, name, syntax)
    text = NEW_FLOW.format(name=_agent_name(stem_of(path)))
    if syntax == "yaml":
        flow = compile_source(text, file=path.name, syntax="flow").flow
        assert flow is not None, "the new-flow template compiles"
        text = to_yaml(flow, header=[f"# {stem_of(path)}: a new flow."])
    save(path, text, folder)
    return path


def duplicate(folder: Path, path: Path, name: str) -> Path:
    """A copy of ``path`` (and of its tests file) under ``name``, beside it."""
    _own(folder, path)
    target = _target(folder, name, _syntax(path), beside=path)
    save(target, path.read_text(encoding="utf-8"), folder)
    if tests_path_for(path).is_file():
        shutil.copyfile(tests_path_for(path), tests_path_for(target))
    return target


def rename(folder: Path, path: Path, name: str) -> Path:
    """``path`` (and its tests file) renamed to ``name``, in the same folder."""
    _own(folder, path)
    target = _target(folder, name, _syntax(path), beside=path)
    tests = tests_path_for(path)
    path.rename(target)
    if tests.is_file():
        tests.rename(tests_path_for(target))
    return target


def delete(folder: Path, path: Path) -> list[Path]:
    """Delete ``path`` and its tests file; the files deleted."""
    _own(folder, path)
    gone = [p for p in (path, tests_path_for(path)) if p.is_file()]
    for p in gone:
        p.unlink()
    return gone


def _agent_name(stem: str) -> str:
    """The stem as an agent name (an identifier: ``-`` becomes ``_``, a leading digit gets
    ``flow_`` in front)."""
    name = stem.replace("-", "_")
    return f"flow_{name}" if name[0].isdigit() else name
