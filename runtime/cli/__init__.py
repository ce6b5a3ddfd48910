"""The ``voxflow`` command line.

Each command group lives in its own module under ``runtime/cli/`` and registers itself on
``app`` when imported; ``COMMAND_MODULES`` lists them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Annotated

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
    "runtime.cli.webhook_commands",
)


@app.callback()
def _tenant_option(
    tenant: Annotated[
        str | None,
        typer.Option(
            "--tenant",
            envvar="VOXFLOW_TENANT",
            help="Act for this tenant (default: the tenant 'default'); docs/tenancy.md.",
        ),
    ] = None,
) -> None:
    """voxflow: flows for AI voice agents, checked like programs and run durably."""
    if tenant is not None:
        from runtime import tenancy

        try:
            tenancy.act_as(tenant)
        except tenancy.TenantIdError as exc:
            raise typer.BadParameter(str(exc), param_hint="--tenant") from None


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
