"""The heat map in headless Chromium, on a real campaign of 50 simulated calls.

The reminder campaign (callable at any hour, every outcome final so each contact is called
once) runs on the Temporal test server through the real worker composition: dial over AMI to
the simulated PBX, converse over AudioSocket with the local provider, the call's row stored by
the converse activity. Its 50 callees take five paths: confirm, ask for another time, answer
something that matches nothing and then confirm, stay silent after the greeting and hang up,
ask not to be called again. Then the API is served for real and the studio's Heat map page
draws the campaign; the numbers shown are checked against the stored calls, and screenshots
go to ``tests/out/``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from dsl.ir import OutcomeRule, Pacing
from runtime.api import create_app
from runtime.client import plan_for, start_campaign
from runtime.dev.demo import DEMO_FLOW, anytime_flow, prepare_campaign, read_contacts
from runtime.settings import load_settings
from telephony.sim import parse_scenarios
from tests.sim_worker import simulated_worker
from tests.studio.conftest import serve_api, serve_studio
from tests.studio.test_e2e_browser import CHROMIUM, HEADLESS, OUT
from tests.temporal_env import time_skipping_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

CAMPAIGN = "heat"
HELLO = {"say": "Hello?", "wait_for_agent": False}  # on pick-up: AMD() hears a person
CONFIRM = [{"say": "Yes, I will be there, thank you."}]
BEHAVIOURS = [
    [HELLO, *CONFIRM],
    [HELLO, {"say": "I can't make it on Wednesday."}],
    [HELLO, {"say": "Purple elephants on the roof."}, *CONFIRM],  # no match, re-prompt, confirm
    [HELLO, {"listen": True}, {"wait_ms": 7000}, {"hangup": True}],  # silence, re-prompt, hang up
    [HELLO, {"say": "Please stop calling me."}],
]


def _campaign_flow():
    """reminder.flow at any hour, ten calls at once, every outcome final (one call each)."""
    flow = anytime_flow()
    assert flow.campaign is not None
    rules = tuple(
        OutcomeRule(r.outcome, "dnc" if r.action == "dnc" else "final") for r in flow.campaign.rules
    )
    campaign = dataclasses.replace(
        flow.campaign, rules=rules, pacing=Pacing(max_concurrent=10), max_attempts=1
    )
    return dataclasses.replace(flow, campaign=campaign)


@pytest.fixture
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as env:
        yield env


async def _run_campaign(temporal: WorkflowEnvironment, pool: asyncpg.Pool, tmp_path: Path) -> int:
    flow = _campaign_flow()
    report = read_contacts(flow, DEMO_FLOW)
    contacts = report.contacts
    assert len(contacts) >= 50
    scenarios = parse_scenarios(
        {
            "ring_ms": 20,
            "numbers": {
                c.phone: {"script": BEHAVIOURS[i % len(BEHAVIOURS)]} for i, c in enumerate(contacts)
            },
        }
    )
    settings = load_settings({"VOXFLOW_RECORDING": "off"})
    async with simulated_worker(temporal.client, pool, settings, scenarios, tmp_path / "sim.jsonl"):
        await prepare_campaign(pool, flow, DEMO_FLOW, CAMPAIGN, report=report)
        handle = await start_campaign(
            temporal.client, plan_for(flow, CAMPAIGN), task_queue=settings.task_queue
        )
        result = await handle.result()
    return result.finished


async def _stored(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT node_path, visits, ended_by FROM calls"
        " WHERE campaign = $1 AND ended_at IS NOT NULL",
        CAMPAIGN,
    )


def _browse(studio_url: str, tmp_path: Path) -> dict[str, str]:
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1700, "height": 1250})
            # Waits, not time limits: the first render imports the compiler, slow on a busy CI.
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            page.goto(studio_url)
            page.get_by_role("link", name="Heat map").click()
            expect(page.get_by_role("heading", name="Heat map")).to_be_visible()
            graph = page.locator("[data-testid='stGraphVizChart'] svg")
            expect(graph.locator("g.node", has_text="greet")).to_contain_text("visits")
            expect(graph.locator("g.cluster", has_text="Visits")).to_be_visible()
            table = page.locator("[data-testid='stTable']")
            expect(table).to_contain_text("greet")
            page.wait_for_timeout(500)  # let the graph finish its layout before the picture
            page.screenshot(path=str(OUT / "heatmap_visits.png"), full_page=True)
            shown = {
                "calls": page.locator("[data-testid='stMetric']").first.inner_text(),
                "greet": graph.locator("g.node", has_text="greet").first.text_content(),
                "edges": " | ".join(graph.locator("g.edge text").all_text_contents()),
            }
            page.get_by_role("combobox", name="Colour nodes by").click()
            page.get_by_role("option", name="Drop-off (hang-ups per call at the node)").click()
            expect(graph.locator("g.cluster", has_text="Drop-off")).to_be_visible()
            page.wait_for_timeout(500)
            page.screenshot(path=str(OUT / "heatmap_drop_off.png"), full_page=True)
            shown["table"] = table.inner_text()
            return shown
        finally:
            browser.close()


async def test_heat_map_of_a_50_call_campaign_in_the_browser(
    temporal: WorkflowEnvironment,
    pg_pool: asyncpg.Pool,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    finished = await _run_campaign(temporal, pg_pool, tmp_path)
    rows = await _stored(pg_pool)
    assert finished == 50 and len(rows) == 50  # one stored call per contact

    # What the API must say, counted here from the stored rows.
    visits = Counter(n for r in rows for n in r["node_path"])
    steps = Counter(p for r in rows for p in zip(r["node_path"], r["node_path"][1:], strict=False))
    dropped = Counter(r["node_path"][-1] for r in rows if r["ended_by"] == "caller")
    no_matches = Counter()
    for r in rows:
        for v in r["visits"]:
            no_matches[v["node"]] += v["no_matches"]
    assert visits["greet"] == 50
    assert {"confirmed", "reschedule", "opted_out"} <= set(visits)
    assert dropped["greet"] >= 5 and no_matches["greet"] >= 5
    assert all(len(r["visits"]) == len(r["node_path"]) for r in rows)

    app = create_app(load_settings({"DATABASE_URL": pg_url}))
    with serve_api(app, monkeypatch) as api_url:
        async with httpx.AsyncClient(base_url=api_url) as api:
            got = await api.get("/flows/reminder/heatmap", params={"campaign": CAMPAIGN})
        heat = got.json()
        nodes = {n["node"]: n for n in heat["nodes"]}
        assert (heat["calls"], heat["answered"]) == (50, 50)
        assert {k: n["visits"] for k, n in nodes.items()} == dict(visits)
        assert {(e["source"], e["target"]): e["count"] for e in heat["edges"]} == dict(steps)
        assert {k: n["drop_offs"] for k, n in nodes.items() if n["drop_offs"]} == dict(dropped)
        assert nodes["greet"]["no_matches"] == no_matches["greet"]
        assert nodes["greet"]["mean_ms"] > 1000  # the greeting alone is several seconds

        flows = tmp_path / "flows"
        flows.mkdir()
        (flows / "reminder.flow").write_text(DEMO_FLOW.read_text())
        with serve_studio(tmp_path, flows, api_url) as studio_url:
            shown = await asyncio.to_thread(_browse, studio_url, tmp_path)

    assert shown["calls"].split() == ["Calls", "50"]
    greet = nodes["greet"]
    assert f"{greet['visits']} visits · drop {greet['drop_off_rate']:.0%}" in shown["greet"]
    assert f"×{steps[('greet', 'confirmed')]}" in shown["edges"]
    assert "greet" in shown["table"] and f"{greet['drop_off_rate']:.0%}" in shown["table"]
