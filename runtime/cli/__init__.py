"""The ``voxflow`` command line.

Each command group lives in its own module under ``runtime/cli/`` and registers itself on
``app`` when imported; ``COMMAND_MODULES`` lists them.
"""

from __future__ import annotations

import importlib

import typer

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
)


def main() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name)
    app()
