"""The ``voxflow`` command line.

Each command group lives in its own module under ``runtime/cli/`` and registers itself on
``app`` when imported; ``COMMAND_MODULES`` lists them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from runtime.settings import Settings

app = typer.Typer(
    name="voxflow",
    help="voxflow: flows for AI voice agents, checked like programs and run durably.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES: tuple[str, ...] = (
    "runtime.cli.flow_commands",
    "runtime.cli.studio_commands",
    "runtime.cli.chat_commands",
    "runtime.cli.db_commands",
    "runtime.cli.campaign_commands",
    "runtime.cli.explain_commands",
    "runtime.cli.simulate_commands",
    "runtime.cli.tenant_commands",
)


def settings_or_exit() -> Settings:
    """The settings, or exit 2 with every problem listed (a command's first step)."""
    from runtime.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def main() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name)
    app()
