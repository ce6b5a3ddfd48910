"""The tree stays clean under the project's ruff rules (pyproject.toml [tool.ruff])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ruff_check_reports_no_problems():
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--quiet", str(REPO)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_leaves_every_file_as_it_is():
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--quiet", str(REPO)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_module_exceeds_600_lines():
    """One noun per module: a module past 600 lines is split along its concepts."""
    sources = [
        p
        for folder in ("dsl", "runtime", "activities", "telephony", "studio")
        for p in (REPO / folder).rglob("*.py")
    ]
    long = {
        str(p.relative_to(REPO)): n
        for p in sources
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not long, long
