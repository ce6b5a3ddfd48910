"""``POST /calls`` end to end: the API starts a real ``ContactWorkflow`` (Temporal test server)
that the real worker composition runs (``build_workers``: persistence, dial and converse
activities) against the simulated PBX, whose callee for the chosen number follows its script.
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from runtime.api import create_app
from runtime.db.flows import save_flow
from runtime.dev.demo import anytime_flow
from runtime.settings import load_settings
from telephony.sim import parse_scenarios
from telephony.sim.log import read_log
from tests.sim_worker import simulated_worker

from .conftest import KEYS

REPO = Path(__file__).resolve().parents[2]
OLIVIA = "+12127260181"
BUSY = "+12125016613"
NORMAL = "+12125550177"
# Each callee says "Hello?" as it picks up, as people do: the simulated AMD() hears it
# (amd: audio, the default) and finds a human, as a real Asterisk would.
HELLO = {"say": "Hello?", "wait_for_agent": False}
SCENARIOS = {
    "ring_ms": 20,
    "numbers": {
        OLIVIA: {
            "script": [
                HELLO,
                {"listen": True},  # the agent's greeting
                {"wait_ms": 3000},  # long enough to read the transcript while the call is live
                {"say": "Yes, I will be there, thank you.", "wait_for_agent": False},
            ]
        },
        BUSY: {"result": "busy"},
        NORMAL: {"script": [HELLO, {"say": "Yes, I will be there."}]},
    },
}
CONTACT = {"first_name": "Olivia", "appointment_at": "2026-11-29T15:00:00-05:00"}


@dataclass
class Stack:
    api: httpx.AsyncClient
    pbx_log: Path
    recordings: Path

    def dialled(self) -> list[str]:
        """Numbers the simulated PBX was asked to originate, from its own log."""
        return [str(r["number"]) for r in read_log(self.pbx_log) if r["type"] == "originate"]


@pytest.fixture
async def stack(
    pg_pool: asyncpg.Pool, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[Stack]:
    """API + worker (shared and own queue) + simulated PBX + AudioSocket server, on loopback.

    The scenarios file is in the settings, as ``voxflow dev`` sets it: its callees are the
    numbers the designer key may test-call."""
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(json.dumps(SCENARIOS))
    settings = load_settings(
        {
            "VOXFLOW_API_KEYS": ",".join(f"{r}:{k}" for r, k in KEYS.items()),
            "VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings"),
            "VOXFLOW_SIM_SCENARIOS": str(scenarios),
        }
    )
    async with simulated_worker(
        temporal_env.client, pg_pool, settings, parse_scenarios(SCENARIOS), tmp_path / "sim.jsonl"
    ):
        app = create_app(settings, db=pg_pool, temporal=temporal_env.client)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://voxflow.test",
            headers={"X-API-Key": KEYS["designer"]},
        ) as api:
            yield Stack(api, tmp_path / "sim.jsonl", tmp_path / "recordings")


async def _until_done(api: httpx.AsyncClient, test_id: str) -> list[dict[str, Any]]:
    """Poll the test call until its workflow completes; every detail of its call seen on the
    way (the live transcript as a client watching the call saw it)."""
    seen: list[dict[str, Any]] = []
    for _ in range(600):
        status = (await api.get(f"/calls/tests/{test_id}")).json()
        for call in status["calls"]:
            seen.append((await api.get(f"/calls/{call['id']}")).json())
        if status["workflow_status"] == "COMPLETED":
            return seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"the test call never completed: {status}")


async def test_test_call_dials_the_chosen_callee_and_shows_a_live_transcript(
    stack: Stack, pg_pool: asyncpg.Pool
) -> None:
    flow = anytime_flow()  # the reminder flow, callable at any hour (the dial checks the clock)
    flow_hash = await save_flow(pg_pool, flow)

    placed = await stack.api.post(
        "/calls", json={"flow_hash": flow_hash, "phone": OLIVIA, "contact": CONTACT}
    )

    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert (body["status"], body["scheduled_at"], body["timezone"]) == (
        "dialing",
        None,
        "America/New_York",
    )
    assert body["workflow_id"] == f"call/{body['id']}"
    seen = await _until_done(stack.api, body["id"])
    status = (await stack.api.get(f"/calls/tests/{body['id']}")).json()
    assert (status["contact_status"], status["outcome"]) == ("final", "confirmed")
    (call,) = status["calls"]
    detail = (await stack.api.get(f"/calls/{call['id']}")).json()

    assert (detail["outcome"], detail["node_path"]) == ("confirmed", ["greet", "confirmed"])
    assert (detail["campaign"], detail["phone"], detail["flow_hash"]) == (
        body["id"],
        OLIVIA,
        flow_hash,
    )
    said = [(t["role"], t["text"]) for t in detail["transcript"]]
    assert said[0] == ("event", "entered greet")
    assert ("caller", "Yes, I will be there, thank you.") in said
    assert ("agent", "Great, we'll see you then. Goodbye!") in said
    live = [d for d in seen if d["ended_at"] is None and d["transcript"]]
    assert live, "no transcript was visible while the call was in progress"
    assert live[0]["transcript"][0]["text"] == "entered greet"
    # The simulated PBX placed exactly this call, and the recording is served.
    assert stack.dialled() == [OLIVIA]
    wav = await stack.api.get(detail["recording_url"])
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    path = stack.recordings / f"{call['id']}.wav"
    with wave.open(str(path), "rb") as recorded:
        assert (recorded.getnchannels(), recorded.getframerate()) == (2, 8000)


async def test_busy_callee_ends_the_test_call_without_a_retry(
    stack: Stack, pg_pool: asyncpg.Pool
) -> None:
    flow_hash = await save_flow(pg_pool, anytime_flow())

    body = (
        await stack.api.post(
            "/calls", json={"flow_hash": flow_hash, "phone": BUSY, "contact": CONTACT}
        )
    ).json()
    await _until_done(stack.api, body["id"])
    status = (await stack.api.get(f"/calls/tests/{body['id']}")).json()

    # The reminder campaign retries busy numbers after 15 minutes; a test call does not.
    assert (status["contact_status"], status["outcome"], status["calls"]) == ("final", "busy", [])
    assert stack.dialled() == [BUSY]


async def test_closed_window_schedules_the_call_for_when_it_opens(stack: Stack) -> None:
    local = datetime.now(ZoneInfo("America/New_York"))
    day = (local + timedelta(days=2)).date()
    source = (REPO / "flows" / "reminder.flow").read_text()
    lines = [
        line for line in source.splitlines() if not line.lstrip().startswith(("window ", "holiday"))
    ]
    at = lines.index('  caller_id "+12125550100"')
    name = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    lines.insert(at, f"  window {name} 09:00-10:00 local")

    placed = await stack.api.post(
        "/calls", json={"source": "\n".join(lines) + "\n", "phone": OLIVIA, "contact": CONTACT}
    )

    assert placed.status_code == 201, placed.text
    opens = datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo("America/New_York"))
    body = placed.json()
    assert body["status"] == "scheduled"
    assert datetime.fromisoformat(body["scheduled_at"]) == opens.astimezone(UTC)
    status = (await stack.api.get(f"/calls/tests/{body['id']}")).json()
    assert status["workflow_status"] == "RUNNING" and status["calls"] == []
    assert stack.dialled() == []
    for unknown in ("test-reminder-20260101T000000-abcdef", "campaign-november"):
        missing = await stack.api.get(f"/calls/tests/{unknown}")
        assert (missing.status_code, missing.json()["code"]) == (
            404,
            "test_call_not_found",
        )


HOSTILE_SAY = (
    "{% for i in range(contact.first_name | length * 10000) %}"
    "{% for j in range(contact.first_name | length * 10000) %}.{% endfor %}{% endfor %}"
)


async def test_a_normal_call_is_dialled_on_time_while_a_hostile_template_call_runs(
    stack: Stack, pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    # The greeting loops 3.6 billion times unless renders are bounded; the compiler cannot
    # see it (the bound depends on the contact), so the call must fail alone, quickly.
    hostile_path = tmp_path / "hostile.flow"
    source = (REPO / "flows" / "reminder.flow").read_text()
    greet = next(line for line in source.splitlines() if line.strip().startswith('say "Hi '))
    hostile_path.write_text(source.replace(greet, f'    say "{HOSTILE_SAY}"'))
    hostile = await save_flow(pg_pool, anytime_flow(hostile_path))
    normal = await save_flow(pg_pool, anytime_flow())

    first = await stack.api.post(
        "/calls", json={"flow_hash": hostile, "phone": OLIVIA, "contact": CONTACT}
    )
    assert first.status_code == 201, first.text
    await asyncio.sleep(0.5)
    placed_at = time.monotonic()
    second = await stack.api.post(
        "/calls", json={"flow_hash": normal, "phone": NORMAL, "contact": CONTACT}
    )
    assert second.status_code == 201, second.text
    while NORMAL not in stack.dialled():
        assert time.monotonic() - placed_at < 10, f"not dialled in 10 s: {stack.dialled()}"
        await asyncio.sleep(0.05)
    dialled_after = time.monotonic() - placed_at
    print(f"normal call dialled {dialled_after:.2f} s after it was placed")
    assert dialled_after < 5
    await _until_done(stack.api, first.json()["id"])
    await _until_done(stack.api, second.json()["id"])
    normal_status = (await stack.api.get(f"/calls/tests/{second.json()['id']}")).json()
    assert normal_status["outcome"] == "confirmed"
    hostile_status = (await stack.api.get(f"/calls/tests/{first.json()['id']}")).json()
    (call,) = hostile_status["calls"]
    detail = (await stack.api.get(f"/calls/{call['id']}")).json()
    errors = [t["text"] for t in detail["transcript"] if t["text"].startswith("error: ")]
    assert errors and "exceeds a bound" in errors[0], detail["transcript"]
