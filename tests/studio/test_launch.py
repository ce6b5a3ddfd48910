"""The studio's command line: loopback, headless, no telemetry, flows folder passed through."""

from __future__ import annotations

from pathlib import Path

from studio.launch import APP, command, flows_dir_from_argv


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


def test_flows_folder_travels_as_a_script_argument(tmp_path: Path) -> None:
    argv = command(flows_dir=tmp_path)

    script_args = argv[argv.index("--") + 1 :]
    assert script_args == ["--flows", str(tmp_path.resolve())]
    assert flows_dir_from_argv(script_args) == str(tmp_path.resolve())
