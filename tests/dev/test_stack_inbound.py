"""`voxflow dev`'s stack takes inbound calls: an AMI Originate into the simulated PBX's
``voxflow-inbound`` context reaches the first worker's AudioSocket server (a known port), the
worker runs ``VOXFLOW_INBOUND_FLOW`` and the call lands in PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from runtime.db import attempts, calls
from runtime.db import connect as db_connect
from runtime.dev.stack import SIM_SECRET, embedded_stack
from runtime.settings import load_settings
from telephony.ami.client import AmiClient, AmiSettings

ROOT = Path(__file__).resolve().parents[2]
MENU = ROOT / "flows" / "dtmf_menu.flow"
CALLER = "+33155550177"

pytestmark = pytest.mark.slow


async def _worker_audiosocket(log: Path) -> str:
    """The ``host:port`` the first worker prints once it serves."""
    while True:
        text = await asyncio.to_thread(lambda: log.read_text() if log.exists() else "")
        if match := re.search(r"voxflow worker: queue \S+, audiosocket (\S+)", text):
            return match.group(1)
        await asyncio.sleep(0.2)


async def _inbound_outcome(url: str) -> tuple[str, str | None, list[str]]:
    """(call id, outcome, node path) of the first finished inbound call, waiting for it."""
    db = await db_connect(url)
    try:
        while True:
            counts = await attempts.outcome_counts(db, "inbound")
            if counts:
                row = await db.fetchrow(
                    "SELECT id FROM attempts WHERE campaign = 'inbound' AND outcome IS NOT NULL"
                )
                detail = await calls.get_call(db, row["id"])
                if detail is not None and detail.call.outcome:
                    return row["id"], detail.call.outcome, list(detail.call.node_path)
            await asyncio.sleep(0.2)
    finally:
        await db.close()


async def test_an_inbound_call_through_the_dev_stack_runs_the_inbound_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenarios = tmp_path / "callees.yaml"
    scenarios.write_text(
        f'numbers:\n  "{CALLER}":\n    script:\n'
        '      - say: "I have a question about my bill"\n      - listen: true\n'
    )
    monkeypatch.setenv("VOXFLOW_INBOUND_FLOW", str(MENU))
    settings = load_settings({"VOXFLOW_STATE_DIR": str(tmp_path / "state")})
    async with embedded_stack(settings, scenarios=scenarios, ui=False) as stack:
        host, port = stack.ami
        ami = AmiClient(AmiSettings(host=host, port=port, username="voxflow", secret=SIM_SECRET))
        await ami.start()
        try:
            target = await ami.send({"Action": "Getvar", "Variable": "VOXFLOW_INBOUND_AUDIOSOCKET"})
            serving = await asyncio.wait_for(
                _worker_audiosocket(stack.state_dir / "logs" / "worker0.log"), 60
            )
            assert target.get("Value") == serving  # the PBX calls in where the worker listens
            reply = await ami.send(
                {
                    "Action": "Originate",
                    "Channel": "Local/+15550100@voxflow-inbound",
                    "Application": "Wait",
                    "Data": "1",
                    "CallerID": f"<{CALLER}>",
                }
            )
            assert reply.success
        finally:
            await ami.close()
        call_id, outcome, path = await asyncio.wait_for(_inbound_outcome(stack.database_url), 90)
    assert (outcome, path) == ("routed_to_billing", ["menu", "billing"])
    assert (tmp_path / "state" / "recordings" / f"{call_id}.wav").exists()
