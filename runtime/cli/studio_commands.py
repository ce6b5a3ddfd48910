"""``voxflow studio``: serve the Streamlit studio on the loopback interface."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from runtime.cli import app, settings_or_exit
from runtime.settings import is_loopback


@app.command("studio")
def studio(
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port.")] = 8501,
    flows: Annotated[
        Path, typer.Option("--flows", help="Folder of flow files the Flows page browses.")
    ] = Path("flows"),
    host: Annotated[
        str, typer.Option("--host", help="Bind address; keep loopback unless a proxy adds auth.")
    ] = "127.0.0.1",
) -> None:
    """Open the studio: edit, draw and test-chat flows; watch campaigns and calls."""
    from studio.launch import command, environment, run

    if not flows.is_dir():
        typer.echo(f"error: flows folder {flows} does not exist; pass --flows DIR", err=True)
        raise typer.Exit(2)
    settings = settings_or_exit()
    if not is_loopback(host) and not settings.api_keys:
        typer.echo(
            f"error: refusing to serve the studio on {host} without VOXFLOW_API_KEYS: anyone who"
            " reaches it would act as admin. Set the keys (each person then signs in with"
            " theirs), or keep the loopback default behind an authenticating proxy.",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(f"voxflow studio on http://{host}:{port} (Ctrl-C to stop)")
    code = run(command(port=port, host=host), {**os.environ, **environment(flows_dir=flows)})
    # Streamlit stopped by a signal we passed on: a clean stop, not a failure.
    raise typer.Exit(0 if code in (0, -2, -15) else code)
