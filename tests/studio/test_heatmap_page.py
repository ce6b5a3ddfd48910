"""The Heat map page (AppTest) against the real REST API: a time range of a flow's calls drawn
on the version they ran, and a range that ends before it starts refused in plain words."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dsl import load_flow
from runtime.api import create_app
from runtime.call.result import TimedVisit
from runtime.db import calls, create_pool, flows
from runtime.settings import load_settings
from tests.studio.conftest import PAGES, REPO, serve_api

DAY = date(2026, 11, 23)


@pytest.fixture
def live_api(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve_api(create_app(load_settings({"DATABASE_URL": pg_url})), monkeypatch) as url:
        yield url


async def _seed(pg_url: str) -> None:
    """Three finished calls of reminder.flow on DAY: two confirm, one hangs up in greet."""
    flow = load_flow(REPO / "flows" / "reminder.flow")
    pool = await create_pool(pg_url, max_size=2)
    try:
        await flows.save_flow(pool, flow, source_name="reminder.flow")
        at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=15)
        paths = {"c1": ["greet", "confirmed"], "c2": ["greet", "confirmed"], "c3": ["greet"]}
        for call_id, path in paths.items():
            await calls.start_call(pool, call_id, flow_hash=flow.hash, started_at=at)
            await calls.end_call(
                pool,
                call_id,
                outcome="confirmed" if len(path) == 2 else "hung_up",
                node_path=path,
                visits=[TimedVisit(n, "x", 0, 3000).as_json() for n in path],
                ended_by="agent" if len(path) == 2 else "caller",
            )
    finally:
        await pool.close()


def test_a_time_range_of_a_flows_calls_is_drawn_on_its_graph(
    pg_url: str, live_api: str, flows_dir: Path
) -> None:
    shutil.copy(REPO / "flows" / "reminder.flow", flows_dir / "reminder.flow")
    asyncio.run(_seed(pg_url))
    at = AppTest.from_file(str(PAGES / "heatmap.py"), default_timeout=60).run()
    at.radio[0].set_value("A time range").run()
    assert at.selectbox[0].value == "reminder"
    at.date_input[0].set_value(DAY).run()
    at.date_input[1].set_value(DAY).run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Calls": "3",
        "Reached the flow": "3",
        "Flow versions": "1",
        "Hung up mid-flow": "1",
    }
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "3 visits · drop 33%" in dot and "confirms ×2" in dot
    table = at.table[0].value
    assert table.loc["greet", "drop-offs"] == 1 and table.loc["confirmed", "visits"] == 2

    at.date_input[1].set_value(DAY - timedelta(days=1)).run()
    assert [e.value for e in at.error] == [
        "The range ends before it starts: pick a 'To' day on or after 'From'."
    ]
