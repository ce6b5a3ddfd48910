"""``voxflow db migrate|status`` and ``voxflow api`` as a user runs them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import runtime.cli.db_commands  # noqa: F401  (registers the commands)
from runtime.cli import app
from tests.conftest import pg_state_dir

VOXFLOW = Path(sys.executable).parent / "voxflow"


def test_migrate_on_a_migrated_database_applies_nothing(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    result = CliRunner().invoke(app, ["db", "migrate"])
    assert result.exit_code == 0, result.output
    assert "0 applied now" in result.output
    status = CliRunner().invoke(app, ["db", "status"])
    assert status.exit_code == 0
    assert "0001_core  applied" in status.output


def test_invalid_settings_exit_2_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    result = CliRunner().invoke(app, ["db", "migrate"])
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_voxflow_api_serves_on_an_embedded_database_and_stops_on_ctrl_c() -> None:
    with pg_state_dir() as state:
        _serve_and_stop(state)


def _serve_and_stop(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "VOXFLOW_API_KEYS")
    }
    env |= {"VOXFLOW_STATE_DIR": str(tmp_path / "state"), "VOXFLOW_API_PORT": str(port)}
    proc = subprocess.Popen(
        [str(VOXFLOW), "api"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert ready is not None, proc.stdout.read().decode() if proc.stdout else ""
        assert ready.json() == {"ready": True, "checks": {"database": "ok"}}
        # no key configured: loopback dev mode admits the request
        made = httpx.put(f"http://127.0.0.1:{port}/dnc/+12125550111", timeout=5)
        assert made.status_code == 201
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    # the embedded server stopped with the API: no postmaster left on its data directory
    assert not (tmp_path / "state" / "pg" / "postmaster.pid").exists()
