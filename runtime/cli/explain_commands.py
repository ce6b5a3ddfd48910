"""``voxflow explain CODE``: what a diagnostic code means, with an example and its fix."""

from __future__ import annotations

import typer

from dsl.codes import CODES, explain
from runtime.cli import app


@app.command("explain")
def explain_command(
    code: str = typer.Argument(..., help="A diagnostic code such as VF401"),
) -> None:
    """Explain a diagnostic code (exit 1 for an unknown code)."""
    text = explain(code)
    if text is None:
        typer.echo(f"error: unknown code {code!r}; known: {', '.join(CODES)}", err=True)
        raise typer.Exit(1)
    typer.echo(text, nl=False)
