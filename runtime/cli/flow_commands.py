"""``voxflow check | fmt | graph | schema | ir``: the flow compiler on the command line."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import graphviz
import typer

from dsl import CompileResult, compile_file
from dsl.format import leading_comment, to_flow
from dsl.format_yaml import to_yaml
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
    path: Annotated[Path, typer.Argument(help="A flow file.")],
    to: Annotated[
        Syntax | None, typer.Option("--to", help="Convert: flow or yaml (default: same syntax).")
    ] = None,
    check_only: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the file is not already formatted.")
    ] = False,
) -> None:
    """Print the flow canonically formatted, or converted with --to (to stdout)."""
    result = _compile_or_exit(path)
    own = Syntax.yaml if str(path).endswith((".yaml", ".yml")) else Syntax.flow
    target = to or own
    header = leading_comment(result.source)
    writer = to_yaml if target is Syntax.yaml else to_flow
    text = writer(result.unwrap(), header=header)
    if check_only:
        if target is not own or text != result.source:
            typer.echo(f"{path}: would be reformatted", err=True)
            raise typer.Exit(1)
        typer.echo(f"{path}: formatted")
        return
    sys.stdout.write(text)


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
