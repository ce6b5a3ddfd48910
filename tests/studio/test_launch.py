"""The studio's command line: loopback, headless, no telemetry; its flows folder a setting."""

from __future__ import annotations

from pathlib import Path

from runtime.settings import load_settings
from studio.launch import APP, command, environment


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_command_serves_the_app_on_loopback_headless_without_telemetry() -> None:
    argv = command(port=8765)

    assert argv[1:5] == ["-m", "streamlit", "run", str(APP)]
    assert _option(argv, "--server.address") == "127.0.0.1"
    assert _option(argv, "--server.port") == "8765"
    assert _option(argv, "--server.headless") == "true"
    assert _option(argv, "--browser.gatherUsageStats") == "false"
    assert "--" not in argv


def test_flows_folder_reaches_the_studio_through_its_settings(tmp_path: Path) -> None:
    settings = load_settings(environment(flows_dir=tmp_path))

    assert settings.studio_flows_dir == tmp_path.resolve()
