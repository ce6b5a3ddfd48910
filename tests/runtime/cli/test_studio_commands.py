"""``voxflow studio`` refuses a missing flows folder before starting anything."""

from __future__ import annotations

from pathlib import Path

import typer
from click.testing import CliRunner

import runtime.cli.studio_commands  # noqa: F401  (registers the command)
from runtime.cli import COMMAND_MODULES, app


def test_studio_command_is_registered() -> None:
    assert "runtime.cli.studio_commands" in COMMAND_MODULES


def test_missing_flows_folder_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    # As a group, whatever the number of commands registered when this test runs.
    cli = typer.main.get_group(app)
    result = CliRunner().invoke(cli, ["studio", "--flows", str(missing)])

    assert result.exit_code == 2
    assert str(missing) in result.output
