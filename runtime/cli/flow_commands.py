"""``voxflow check | fmt | graph | schema | ir``: the flow compiler on the command line."""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import graphviz
import typer

from dsl import CompileResult, compile_file
from dsl.comments import FormatError, format_source
from dsl.compiler import syntax_of
from dsl.graph import to_dot, to_mermaid, to_svg
from dsl.schema import flow_schema
from runtime.cli import app


def flow_files(paths: list[Path]) -> list[Path]:
    """Files named on the command line, and ``*.flow`` / ``*.flow.yaml`` under directories."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = [*p.rglob("*.flow"), *p.rglob("*.flow.yaml"), *p.rglob("*.flow.yml")]
            out.extend(sorted(f for f in found if f.is_file()))
        else:
            out.append(p)
    return out


def _compile_or_exit(path: Path) -> CompileResult:
    result = compile_file(path)
    if not result.ok:
        for d in result.diagnostics:
            typer.echo(d.render(result.source), err=True)
        raise typer.Exit(1)
    return result


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("check")
def check(
    paths: Annotated[list[Path], typer.Argument(help="Flow files or directories.")],
    format: Annotated[
        CheckFormat, typer.Option("--format", help="text or json")
    ] = CheckFormat.text,
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
) -> None:
    """Compile flow files and report every problem, compiler-style. Exit 1 on errors."""
    files = flow_files(paths)
    if not files:
        typer.echo("no *.flow or *.flow.yaml files found", err=True)
        raise typer.Exit(1)
    results = [compile_file(f) for f in files]
    failed = any(not r.ok or (strict and r.diagnostics) for r in results)
    if format is CheckFormat.json:
        report = [
            {
                "file": r.file,
                "ok": r.ok,
                "hash": r.flow.hash if r.flow else None,
                "diagnostics": [
                    {**d.to_dict(), "severity": d.severity.value} for d in r.diagnostics
                ],
            }
            for r in results
        ]
        typer.echo(json.dumps(report, indent=2))
    else:
        for r in results:
            for d in r.diagnostics:
                typer.echo(d.render(r.source))
        errors = sum(len(r.errors) for r in results)
        warnings = sum(len(r.diagnostics) - len(r.errors) for r in results)
        typer.echo(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    raise typer.Exit(1 if failed else 0)


class Syntax(StrEnum):
    flow = "flow"
    yaml = "yaml"


@app.command("fmt")
def fmt(
    paths: Annotated[list[Path], typer.Argument(help="Flow files or directories.")],
    to: Annotated[
        Syntax | None, typer.Option("--to", help="Convert: flow or yaml (default: same syntax).")
    ] = None,
    check_only: Annotated[
        bool, typer.Option("--check", help="Exit 1 if a file is not already formatted.")
    ] = False,
    write: Annotated[
        bool,
        typer.Option("--write", "-w", help="Rewrite the files in place (only if they compile)."),
    ] = False,
) -> None:
    """Print a flow canonically formatted, or converted with --to, keeping every comment.

    With --write, each file is rewritten in place (atomically) and only when it compiles;
    with --check, nothing is written and the exit code says whether all are formatted.
    """
    files = flow_files(paths)
    if not files:
        typer.echo("no *.flow or *.flow.yaml files found", err=True)
        raise typer.Exit(1)
    if write and check_only:
        typer.echo("--write and --check do not go together: pick one", err=True)
        raise typer.Exit(2)
    if write and to is not None:
        typer.echo(
            "--write rewrites a file in its own syntax; to convert, redirect --to to a new file",
            err=True,
        )
        raise typer.Exit(2)
    if not (write or check_only) and len(files) > 1:
        typer.echo("print one file at a time, or use --write or --check for several", err=True)
        raise typer.Exit(2)
    failed = False
    for path in files:
        result = compile_file(path)
        if not result.ok:
            for d in result.diagnostics:
                typer.echo(d.render(result.source), err=True)
            failed = True
            continue
        own = Syntax(syntax_of(path))
        target = to or own
        try:
            text = format_source(result, target.value)
        except FormatError as e:  # a formatter bug: the file is left as it is
            typer.echo(f"{e}; the file is left unchanged (please report this flow)", err=True)
            failed = True
            continue
        if check_only:
            if target is not own or text != result.source:
                typer.echo(f"{path}: would be reformatted", err=True)
                failed = True
            else:
                typer.echo(f"{path}: formatted")
        elif write:
            if text == result.source:
                typer.echo(f"{path}: already formatted")
            else:
                write_atomically(path, text)
                typer.echo(f"{path}: reformatted")
        else:
            sys.stdout.write(text)
    raise typer.Exit(1 if failed else 0)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves the old file or the new, never half.

    The temporary file is written beside it (same file system: ``os.replace`` is atomic there)
    and keeps the original's permission bits.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class GraphFormat(StrEnum):
    dot = "dot"
    svg = "svg"
    mermaid = "mermaid"


@app.command("graph")
def graph(
    path: Annotated[Path, typer.Argument(help="A flow file.")],
    format: Annotated[GraphFormat, typer.Option("--format", help="dot, svg or mermaid")] = (
        GraphFormat.dot
    ),
) -> None:
    """Print the flow's node graph as Graphviz DOT, SVG or Mermaid."""
    flow = _compile_or_exit(path).unwrap()
    if format is GraphFormat.svg:
        try:
            sys.stdout.write(to_svg(flow))
        except graphviz.ExecutableNotFound:
            typer.echo(
                "the Graphviz 'dot' program is not installed (run scripts/setup.sh)", err=True
            )
            raise typer.Exit(1) from None
        return
    sys.stdout.write(to_dot(flow) if format is GraphFormat.dot else to_mermaid(flow))


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of *.flow.yaml files (for editor completion)."""
    typer.echo(json.dumps(flow_schema(), indent=2))


@app.command("ir")
def ir_command(path: Annotated[Path, typer.Argument(help="A flow file.")]) -> None:
    """Print the flow's IR as JSON, with its content hash."""
    flow = _compile_or_exit(path).unwrap()
    data = json.loads(flow.to_json())
    typer.echo(json.dumps({"hash": flow.hash, "ir": data}, indent=2, ensure_ascii=False))
