"""Fixtures shared by the studio tests: an API address nothing listens on, a flows folder, and
the API served for real on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from runtime.settings import env_name

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "studio" / "views"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_api(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port, point the studio at it, and stop it."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                pytest.fail("the API server did not start")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{server.config.port}"
        monkeypatch.setenv("VOXFLOW_API_URL", url)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def serve_studio(tmp_path: Path, flows: Path, api_url: str) -> Iterator[str]:
    """``voxflow studio``'s own command line on a free loopback port over ``flows``, talking to
    ``api_url``; stopped (its whole process group) afterwards."""
    import os
    import signal
    import subprocess

    import httpx

    from studio.launch import command, environment

    port = free_port()
    env = {**os.environ, "VOXFLOW_API_URL": api_url, **environment(flows_dir=flows)}
    log = (tmp_path / "studio.log").open("wb")
    proc = subprocess.Popen(
        command(port=port),
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail(
                    f"studio exited with {proc.returncode}: {(tmp_path / 'studio.log').read_text()}"
                )
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("studio did not answer /_stcore/health")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def closed_api(monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the studio at a loopback port nothing listens on (bound, then released)."""
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("VOXFLOW_API_URL", url)
    return url


@pytest.fixture
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    monkeypatch.setenv(env_name("studio_flows_dir"), str(folder))
    return folder
