"""The Test call page places a real call and shows its transcript and outcome as it happens:
studio page (AppTest) → REST API (uvicorn) → ContactWorkflow (Temporal test server) → worker
(dial, converse) → simulated PBX, whose callee for the picked number follows its script."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from streamlit.testing.v1 import AppTest
from temporalio.testing import WorkflowEnvironment

from runtime.api import create_app
from runtime.settings import load_settings
from telephony.sim import load_scenarios
from tests.sim_worker import simulated_worker
from tests.studio.conftest import PAGES, REPO, serve_api
from tests.temporal_env import time_skipping_env

SCENARIOS = """
ring_ms: 20
numbers:
  "+12127260181":
    script:
      - say: "Hello?"  # as the callee picks up: AMD() hears a person (amd: audio)
        wait_for_agent: false
      - say: "Yes, I will be there, thank you."
  "+12125016613": {result: busy}
"""


def _anytime_reminder(flows_dir: Path) -> None:
    """reminder.flow callable at any hour but 23:59 in New York (the dial checks the clock).

    Not 24:00: the compiler accepts it but ``runtime.campaign.windows`` cannot read it.
    """
    lines = [
        line
        for line in (REPO / "flows" / "reminder.flow").read_text().splitlines()
        if not line.lstrip().startswith(("window ", "holiday"))
    ]
    lines.insert(lines.index('  caller_id "+12125550100"'), "  window mon-sun 00:00-23:59 local")
    (flows_dir / "reminder.flow").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(REPO / "flows" / "reminder.tests.yaml", flows_dir / "reminder.tests.yaml")


@pytest.fixture
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as env:
        yield env


@pytest.fixture
def scenarios(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "callees.yaml"
    path.write_text(SCENARIOS, encoding="utf-8")
    monkeypatch.setenv("VOXFLOW_SIM_SCENARIOS", str(path))
    return path


@pytest.fixture
def api_server(
    pg_url: str, temporal: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The API on loopback, connecting to the test server as any deployment would."""
    address = temporal.client.service_client.config.target_host
    settings = load_settings(
        {
            "DATABASE_URL": pg_url,
            "TEMPORAL_ADDRESS": address,
            "VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings"),
        }
    )
    with serve_api(create_app(settings), monkeypatch) as url:
        yield url


@pytest.fixture
async def worker(
    temporal: WorkflowEnvironment, pg_pool: asyncpg.Pool, scenarios: Path, tmp_path: Path
) -> AsyncIterator[None]:
    """The real worker composition with the simulated PBX playing ``scenarios``."""
    settings = load_settings({"VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings")})
    async with simulated_worker(
        temporal.client, pg_pool, settings, load_scenarios(scenarios), tmp_path / "sim.jsonl"
    ):
        yield


async def test_phone_section_calls_a_simulated_callee_and_shows_transcript_and_outcome(
    flows_dir: Path, api_server: str, worker: None
) -> None:
    _anytime_reminder(flows_dir)
    at = AppTest.from_file(str(PAGES / "test_call.py"), default_timeout=60)
    await asyncio.to_thread(at.run)
    (callees,) = [s for s in at.selectbox if s.label == "Simulated callee"]
    callees.set_value(next(o for o in callees.options if o.startswith("+12127260181")))
    await asyncio.to_thread(at.run)

    next(b for b in at.button if b.label == "Place test call").click()
    await asyncio.to_thread(at.run)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "+12127260181 · dialling now" in at.markdown[0].value

    for _ in range(60):  # the page's fragment polls every 2 s; a rerun does the same
        await asyncio.sleep(0.5)
        await asyncio.to_thread(at.run)
        if any(c.value.startswith("workflow COMPLETED") for c in at.caption):
            break
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = [c.value for c in at.caption]
    assert any(
        c.startswith("workflow COMPLETED · contact final · outcome confirmed") for c in captions
    ), captions
    assert any(c.endswith("outcome confirmed · path greet → confirmed") for c in captions)
    said = [(m.name, m.markdown[0].value) for m in at.chat_message]
    assert ("user", "Yes, I will be there, thank you.") in said
    assert ("assistant", "Great, we'll see you then. Goodbye!") in said
