"""The API-backed pages against the real REST API (uvicorn on loopback, embedded PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from dsl import compile_file, load_flow
from dsl.ir import Flow
from runtime.api import create_app
from runtime.db import calls, create_pool, flows
from runtime.settings import load_settings
from tests.studio.conftest import PAGES, REPO, serve_api

SCENARIOS = """
numbers:
  "+12127260181":
    answer_after_rings: 2
    script: [{say: "Hello?"}, {dtmf: "1"}]
  "+12125016613": {result: busy}
"""


@pytest.fixture
def reminder(flows_dir: Path) -> Path:
    path = flows_dir / "reminder.flow"
    shutil.copy(REPO / "flows" / "reminder.flow", path)
    return path


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
def live_api(pg_url: str, recordings: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The voxflow API served by uvicorn on a free loopback port, stopped afterwards."""
    app = create_app(
        load_settings({"DATABASE_URL": pg_url, "VOXFLOW_RECORDINGS_DIR": str(recordings)})
    )
    with serve_api(app, monkeypatch) as url:
        yield url


def _recording(recordings: Path) -> None:
    recordings.mkdir(parents=True)
    with wave.open(str(recordings / "call-1.wav"), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(bytes(32000))


async def _seed_call(pg_url: str, flow: Flow) -> None:
    """A finished call of ``flow`` (stored by hash), with usage, cost and a recording."""
    flow_hash = flow.hash
    pool = await create_pool(pg_url, max_size=2)
    try:
        await flows.save_flow(pool, flow, source_name="reminder.flow")
        await calls.start_call(
            pool, "call-1", campaign=None, phone="+12127260181", flow_hash=flow_hash
        )
        await calls.append_transcript(
            pool,
            "call-1",
            [
                calls.Turn(seq=1, role="agent", text="Hi Olivia", node="greet"),
                calls.Turn(seq=2, role="caller", text="I can't make it", node="greet"),
            ],
        )
        await calls.record_tool_call(
            pool,
            "call-1",
            "t1",
            name="schedule_callback",
            arguments={"reason": "reschedule appointment"},
            node="reschedule",
            result={"scheduled": True},
        )
        await calls.end_call(
            pool,
            "call-1",
            outcome="rescheduled",
            node_path=["greet", "reschedule"],
            turns=2,
            usage={"openai": {"provider": "openai", "input_tokens": 900, "cost_usd": 0.0412}},
            recording="call-1.wav",
        )
    finally:
        await pool.close()


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=60).run()


def test_campaign_created_from_a_flow_file_is_listed_as_draft(
    reminder: Path, live_api: str
) -> None:
    at = _page("campaigns")
    assert [i.value for i in at.info] == ["No campaigns yet."]

    next(b for b in at.button if b.label == "Create").click().run()
    at = _page("campaigns")

    assert not at.exception and not at.error
    name = compile_file(reminder).flow.campaign.name
    assert at.subheader[0].value == f"{name} · draft"
    assert [b.label for b in at.button if b.label in ("Start", "Pause", "Stop")] == ["Start"]
    assert at.metric[0].value == "0"  # contacts


def test_call_detail_shows_transcript_tool_call_cost_recording_and_path_on_the_graph(
    flows_dir: Path, live_api: str, pg_url: str, recordings: Path
) -> None:
    # The flow comes from the API by hash: no flow file is needed in the studio's folder.
    _recording(recordings)
    asyncio.run(_seed_call(pg_url, load_flow(REPO / "flows" / "reminder.flow")))

    at = _page("calls")

    assert not at.exception and not at.error
    assert list(at.dataframe[0].value["id"]) == ["call-1"]
    assert list(at.dataframe[0].value["cost (USD)"]) == [0.0412]
    assert [m.markdown[0].value for m in at.chat_message] == ["Hi Olivia", "I can't make it"]
    assert list(at.dataframe[2].value["tool"]) == ["schedule_callback"]
    assert [m.label for m in at.metric] == ["Outcome", "Seconds", "Turns", "Provider", "Cost"]
    assert (at.metric[0].value, at.metric[4].value) == ("rescheduled", "$0.0412")
    (audio,) = at.get("audio")
    assert audio.proto.url.endswith(".wav")
    assert list(at.dataframe[1].value["provider"]) == ["openai"]
    dot = at.get("graphviz_chart")[0].proto.spec
    assert 'reschedule [label="reschedule\\nend rescheduled" fillcolor="#f59e0b"' in dot
    assert "greet -> reschedule" in dot and 'color="#b45309"' in dot
    assert "flow reminder · reminder.flow" in [c.value for c in at.caption]


def test_added_document_is_listed_with_its_chunks_and_found_by_search(live_api: str) -> None:
    at = _page("knowledge")
    assert [i.value for i in at.info] == ["No documents in this collection yet."]
    text = "Parking is free behind the clinic. The clinic opens at 8 am on weekdays."
    with httpx.Client(base_url=live_api) as client:
        client.post("/knowledge/default/documents", json={"text": text, "title": "faq.md"})

    at = _page("knowledge")
    at.text_input[-1].set_value("where can I park").run()

    assert not at.exception and not at.error
    docs = at.dataframe[0].value
    assert list(docs["title"]) == ["faq.md"] and list(docs["chunks"])[0] >= 1
    assert "Parking is free" in at.markdown[-1].value
    chunks = at.dataframe[1].value
    assert list(chunks["seq"]) == [0] and list(chunks["chars"]) == [len(text)]
    assert list(chunks["text"]) == [text]


def test_chunk_view_pages_and_filters_a_document_s_chunks(live_api: str) -> None:
    text = " ".join(f"Rule {i}: bring form {i} to the desk on day {i}." for i in range(90))
    with httpx.Client(base_url=live_api) as client:
        doc = client.post("/knowledge/rules/documents", json={"text": text}).json()
    at = _page("knowledge")
    at.text_input[0].set_value("rules").run()

    shown = at.dataframe[1].value
    assert len(shown) == min(doc["chunks"], 20) and list(shown["seq"])[0] == 0
    next(t for t in at.text_input if t.label == "Only chunks containing").set_value("form 89").run()

    assert not at.exception and not at.error
    filtered = at.dataframe[1].value
    assert len(filtered) >= 1 and all("form 89" in t for t in filtered["text"])


def test_phone_test_call_posts_one_call_and_reports_why_it_cannot_start(
    reminder: Path, live_api: str
) -> None:
    shutil.copy(REPO / "flows" / "reminder.tests.yaml", reminder.with_name("reminder.tests.yaml"))
    at = _page("test_call")
    next(t for t in at.text_input if t.label == "Number to call (E.164)").set_value(
        "+12127260181"
    ).run()

    next(b for b in at.button if b.label == "Place test call").click().run()

    assert not at.exception
    # Everything checks out, but this API has no TEMPORAL_ADDRESS: the page says so.
    assert at.error[0].value.startswith("Could not place the call:")
    assert "temporal_not_configured" in at.error[0].value
    with httpx.Client(base_url=live_api) as client:
        names = [c["name"] for c in client.get("/campaigns").json()]
    assert not [n for n in names if n.startswith("test-")]  # a test call makes no campaign


def test_phone_test_call_offers_the_simulated_callees_and_sends_the_chosen_number(
    reminder: Path, live_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(REPO / "flows" / "reminder.tests.yaml", reminder.with_name("reminder.tests.yaml"))
    scenarios = tmp_path / "callees.yaml"
    scenarios.write_text(SCENARIOS, encoding="utf-8")
    monkeypatch.setenv("VOXFLOW_SIM_SCENARIOS", str(scenarios))
    with httpx.Client(base_url=live_api) as client:
        client.put("/dnc/+12125016613")  # the page must send the number that was picked
    at = _page("test_call")

    (callees,) = [s for s in at.selectbox if s.label == "Simulated callee"]
    assert callees.options == [
        "+12127260181: answers after 2 rings, says “Hello?”, presses 1",
        "+12125016613: is busy",
    ]
    callees.set_value(callees.options[1]).run()
    next(b for b in at.button if b.label == "Place test call").click().run()

    assert not at.exception
    assert "+12125016613 is on the do-not-call list" in at.error[0].value


def test_providers_page_shows_what_is_configured_and_each_breaker(
    live_api: str, pg_url: str
) -> None:
    """A breaker the calls opened is shown open, with its failures in a row."""
    import asyncio

    from runtime.db import create_pool
    from runtime.providers.breaker import PgBreaker

    async def fail_openai() -> None:
        pool = await create_pool(pg_url, max_size=1)
        try:
            breaker = PgBreaker(pool)
            for _ in range(breaker.failure_threshold):
                await breaker.record_failure("openai")
        finally:
            await pool.close()

    asyncio.run(fail_openai())
    at = _page("providers")

    assert not at.exception and not at.error
    configured = at.dataframe[0].value
    assert list(configured["provider"]) == ["OpenAI Realtime", "Ultravox", "local (offline rules)"]
    assert list(configured["configured"]) == ["no (key not set)", "no (key not set)", "yes"]
    breakers = at.dataframe[1].value
    row = breakers[breakers["provider"] == "openai"].iloc[0]
    assert row["state"].startswith("open") and row["failures in a row"] == 3
