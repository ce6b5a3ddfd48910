"""Fixtures shared by the studio tests: an API address nothing listens on, a flows folder."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from studio.config import FLOWS_ENV

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "studio" / "pages"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    monkeypatch.setenv(FLOWS_ENV, str(folder))
    return folder
