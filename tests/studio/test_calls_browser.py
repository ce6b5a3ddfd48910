"""Calls, Knowledge and Test chat in headless Chromium, as an operator reads them: the calls
filtered by campaign, outcome, date range and phone, with "No calls yet." told apart from
"No calls match these filters."; knowledge hits as a numbered result list (a passage's own
"# Title" is not a page heading); and no label cut short at 1,400 px or at 600 px.
Screenshots go to the test's ``tmp_path``."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from runtime.api import create_app
from runtime.settings import load_settings
from tests.studio.conftest import REPO, serve_api, serve_studio
from tests.studio.test_e2e_browser import CHROMIUM, HEADLESS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]
LABELS = (
    "[data-testid='stWidgetLabel'] p, [data-testid='stMetricLabel'] p,"
    " [data-testid='stMetricValue'] div, [data-testid^='stBaseButton'] p"
)


@pytest.fixture
def api_url(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve_api(create_app(load_settings({"DATABASE_URL": pg_url})), monkeypatch) as url:
        yield url


@pytest.fixture
def studio_url(tmp_path: Path, api_url: str) -> Iterator[str]:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("reminder.flow", "reminder.tests.yaml"):
        shutil.copy(REPO / "flows" / name, flows / name)
    with serve_studio(tmp_path, flows, api_url) as url:
        yield url


async def _seed(pg_url: str) -> None:
    from runtime.db import calls, create_pool

    pool = await create_pool(pg_url, max_size=2)
    try:
        for call_id, campaign, phone, day, outcome in (
            ("c-nov-1", "november", "+12125550100", 2, "confirmed"),
            ("c-nov-2", "november", "+12125550177", 3, "busy"),
            ("c-dec-1", "december", "+33142685300", 4, "confirmed"),
        ):
            at = datetime(2026, 11, day, 15, tzinfo=UTC)
            await calls.start_call(pool, call_id, campaign=campaign, phone=phone, started_at=at)
            await calls.end_call(pool, call_id, outcome=outcome, node_path=["greet"])
    finally:
        await pool.close()


def _no_cut_labels(page, where: str, shots: Path) -> None:
    for width in (1400, 600):
        page.set_viewport_size({"width": width, "height": 1300})
        page.wait_for_timeout(300)  # let the columns reflow
        cut = [
            label.inner_text()
            for label in page.locator(LABELS).all()
            if label.is_visible() and label.evaluate("e => e.scrollWidth > e.clientWidth")
        ]
        assert cut == [], (where, width, cut)
        page.screenshot(path=str(shots / f"{where}_{width}px.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1300})


def test_calls_filters_knowledge_results_and_labels_at_two_widths(
    studio_url: str, api_url: str, pg_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1300})
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            page.goto(f"{studio_url}/calls")
            expect(page.get_by_text("No calls yet.")).to_be_visible()
            page.screenshot(path=str(tmp_path / "calls_none_yet.png"), full_page=True)

            # (in a thread of its own: Playwright's sync API runs an event loop in this one)
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, _seed(pg_url)).result()
            page.reload()
            table = page.get_by_test_id("stDataFrame").first
            expect(table).to_contain_text("c-dec-1")
            phone = page.get_by_label("Phone contains")
            phone.fill("0000")
            phone.press("Enter")
            expect(page.get_by_text("No calls match these filters.")).to_be_visible()
            page.screenshot(path=str(tmp_path / "calls_no_match.png"), full_page=True)
            phone.fill("5550177")
            phone.press("Enter")
            picker = page.get_by_role("combobox", name="Call")
            expect(picker).to_have_value(
                "2026-11-03 15:00 UTC · +12125550177 · busy · november · c-nov-2"
            )
            phone.fill("")
            phone.press("Enter")
            page.get_by_role("combobox", name="Outcome").click()
            page.get_by_role("option", name="confirmed", exact=True).click()
            for end in ("start", "end"):  # typed segment by segment, as a person would
                page.get_by_role(
                    "spinbutton", name=f"year, Started between (UTC) {end} date"
                ).click()
                page.keyboard.type("20261104")
            page.keyboard.press("Escape")
            expect(table).not_to_contain_text("c-nov-1")  # confirmed, but on the 2nd
            expect(picker).to_have_value(
                "2026-11-04 15:00 UTC · +33142685300 · confirmed · december · c-dec-1"
            )
            page.screenshot(path=str(tmp_path / "calls_filtered.png"), full_page=True)
            _no_cut_labels(page, "calls", tmp_path)

            text = "# Parking\nParking is free behind the clinic.\n- Bikes go in the yard."
            with httpx.Client(base_url=api_url) as api:
                added = api.post("/knowledge/default/documents", json={"text": text})
                assert added.status_code == 201, added.text
            page.goto(f"{studio_url}/knowledge")
            query = page.get_by_label("Query")
            query.fill("where can I park")
            query.press("Enter")
            first = page.get_by_text("1. # Parking Parking is free behind the clinic.")
            expect(first).to_be_visible()
            main = page.get_by_test_id("stMain")
            expect(main.locator("h1")).to_have_count(1)  # the page's own title only
            expect(main.locator("li")).to_have_count(0)  # and no bullet of the passage
            page.screenshot(path=str(tmp_path / "knowledge_results.png"), full_page=True)
            _no_cut_labels(page, "knowledge", tmp_path)

            page.goto(f"{studio_url}/test_chat")
            page.get_by_role("button", name="Start chat").click()
            expect(page.get_by_text("Hi Olivia").first).to_be_visible()
            _no_cut_labels(page, "test_chat", tmp_path)
        finally:
            browser.close()
