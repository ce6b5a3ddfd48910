"""The studio's command line: loopback, headless, no telemetry; its flows folder a setting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from runtime.settings import load_settings
from studio.launch import APP, command, environment
from tests.studio.conftest import REPO, free_port


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


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_stopping_voxflow_studio_stops_its_streamlit_process_too(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """A real ``voxflow studio``: the signal goes to it alone (as ``kill`` or a supervisor
    sends it), and its Streamlit child must be gone when it has exited."""
    flows = tmp_path / "flows"
    flows.mkdir()
    port = free_port()
    argv = [
        sys.executable,
        "-c",
        "import sys; from runtime.cli import main; sys.argv[0] = 'voxflow'; main()",
        "studio",
        "--port",
        str(port),
        "--flows",
        str(flows),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with (tmp_path / "studio.log").open("wb") as log:
        parent = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(600):  # a bounded wait for Streamlit's health answer
                assert parent.poll() is None, (tmp_path / "studio.log").read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/_stcore/health").text == "ok":
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()
            [streamlit] = [int(pid) for pid in children]

            parent.send_signal(stop)
            assert parent.wait() == 0
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
    assert not Path(f"/proc/{streamlit}").exists(), "Streamlit outlived voxflow studio"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health")
