"""The API-backed pages against the real REST API (uvicorn on loopback, embedded PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from streamlit.testing.v1 import AppTest

from dsl import compile_file
from runtime.api import create_app
from runtime.db import calls, create_pool
from runtime.settings import load_settings
from tests.studio.conftest import PAGES, REPO, free_port


@pytest.fixture
def reminder(flows_dir: Path) -> Path:
    path = flows_dir / "reminder.flow"
    shutil.copy(REPO / "flows" / "reminder.flow", path)
    return path


@pytest.fixture
def live_api(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The voxflow API served by uvicorn on a free loopback port, stopped afterwards."""
    app = create_app(load_settings({"DATABASE_URL": pg_url}))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                pytest.fail("the API server did not start")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("VOXFLOW_API_URL", url)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


async def _seed_call(pg_url: str, flow_hash: str) -> None:
    pool = await create_pool(pg_url, max_size=2)
    try:
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
            pool, "call-1", outcome="rescheduled", node_path=["greet", "reschedule"], turns=2
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


def test_call_detail_shows_transcript_tool_call_and_path_on_the_graph(
    reminder: Path, live_api: str, pg_url: str
) -> None:
    asyncio.run(_seed_call(pg_url, compile_file(reminder).flow.hash))

    at = _page("calls")

    assert not at.exception and not at.error
    assert list(at.dataframe[0].value["id"]) == ["call-1"]
    assert [m.markdown[0].value for m in at.chat_message] == ["Hi Olivia", "I can't make it"]
    assert list(at.dataframe[1].value["tool"]) == ["schedule_callback"]
    assert at.metric[0].value == "rescheduled"
    dot = at.get("graphviz_chart")[0].proto.spec
    assert 'reschedule [label="reschedule\\nend rescheduled" fillcolor="#f59e0b"' in dot


def test_added_document_is_listed_with_its_chunks_and_found_by_search(live_api: str) -> None:
    at = _page("knowledge")
    assert [i.value for i in at.info] == ["No documents in this collection yet."]
    text = "Parking is free behind the clinic. The clinic opens at 8 am on weekdays."
    with httpx.Client(base_url=live_api) as client:
        client.post("/knowledge/default/documents", json={"text": text, "title": "faq.md"})

    at = _page("knowledge")
    at.text_input[1].set_value("where can I park").run()

    assert not at.exception and not at.error
    docs = at.dataframe[0].value
    assert list(docs["title"]) == ["faq.md"] and list(docs["chunks"])[0] >= 1
    assert "Parking is free" in at.markdown[-1].value


def test_phone_test_call_creates_a_one_contact_campaign_and_reports_why_it_cannot_start(
    reminder: Path, live_api: str
) -> None:
    shutil.copy(REPO / "flows" / "reminder.tests.yaml", reminder.with_name("reminder.tests.yaml"))
    at = _page("test_call")

    next(b for b in at.button if b.label == "Place test call").click().run()

    assert not at.exception
    # No TEMPORAL_ADDRESS in this API's settings: the start is refused, and the page says so.
    assert at.error[0].value.startswith("Could not start the call:")
    assert "temporal_not_configured" in at.error[0].value
    with httpx.Client(base_url=live_api) as client:
        names = [c["name"] for c in client.get("/campaigns").json()]
        (name,) = [n for n in names if n.startswith("test-reminder-")]
        status = client.get(f"/campaigns/{name}").json()
    assert sum(status["contacts"].values()) == 1
