"""``voxflow demo`` end to end on the embedded stack, and the campaign commands' errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import runtime.cli.campaign_commands  # noqa: F401 - registers the commands
from runtime.cli import app
from runtime.db import attempts, create_pool
from runtime.dev.demo import run_demo
from runtime.settings import load_settings
from telephony.sim import originates_per_attempt

EMBEDDED = ("TEMPORAL_ADDRESS", "DATABASE_URL", "AMI_HOST")


def test_campaign_status_without_temporal_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in EMBEDDED:
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["campaign", "status", "november"])
    assert result.exit_code != 0
    assert "TEMPORAL_ADDRESS" in str(result.exception) + result.output


def _last_saturday(now: datetime) -> datetime:
    """The same wall time as ``now`` on the latest Saturday (UTC) at or before it."""
    return now - timedelta(days=(now.isoweekday() - 6) % 7)


@pytest.mark.slow
async def test_demo_with_no_flags_on_a_saturday_clock_dials_and_reports_outcomes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in EMBEDDED:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings({"VOXFLOW_STATE_DIR": str(tmp_path / ".voxflow")})
    saturday = _last_saturday(datetime.now(UTC))
    assert saturday.isoweekday() == 6
    console = Console(record=True, width=80)

    # No window option, as `voxflow demo` with no flags; 30 contacts span 5 time zones.
    result = await run_demo(
        settings, console=console, limit=30, settle_timeout=240, clock=lambda: saturday
    )

    assert result.contacts == 30
    assert set(result.statuses) <= {"final", "scheduled"}, result.statuses
    assert sum(result.statuses.values()) == 30
    assert sum(result.outcomes.values()) > 0, result.statuses  # calls ended with an outcome
    dialled = originates_per_attempt(tmp_path / ".voxflow" / "sim-originates.jsonl")
    assert len(dialled) >= 12 and max(dialled.values()) == 1
    output = console.export_text()
    assert result.campaign in output and "outcomes" in output and "Temporal UI" in output
    assert "demo window: every day" in output
    assert max(len(line) for line in output.splitlines()) <= 80
    # The stack is down: the database it used is gone with it, the state stays on disk.
    assert (tmp_path / ".voxflow" / "temporal" / "temporal.db").exists()
    assert not dialled.keys() - await _recorded(settings, dialled.keys())


async def _recorded(settings, attempt_ids) -> set[str]:
    from runtime.db import database_url

    async with database_url(settings) as url:
        pool = await create_pool(url)
        try:
            return {a for a in attempt_ids if await attempts.get_attempt(pool, a) is not None}
        finally:
            await pool.close()
