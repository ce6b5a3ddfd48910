"""Test call and Test chat in headless Chromium, as a designer tests a flow: a contact value
of the wrong type named before any call; a phone test call scheduled for the closed window,
then cancelled; the same call placed now outside the window and followed to its outcome; and
a contact edited on Test chat greeting with the new name at once. Studio (its own command) →
API (uvicorn) → ContactWorkflow (Temporal test server) → worker → simulated PBX. Screenshots
go to the test's ``tmp_path``."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.studio.conftest import REPO, serve_studio
from tests.studio.test_e2e_browser import CHROMIUM, HEADLESS
from tests.studio.test_phone_live import api_server, scenarios, temporal, worker

__all__ = ["api_server", "scenarios", "temporal", "worker"]  # fixtures used below

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]
OLIVIA = "+12127260181"


def _closed_window_reminder(flows_dir: Path) -> None:
    """reminder.flow with one window, 03:00-03:01 on a Sunday in New York: closed now
    (unless the run falls in that minute, which the test then skips)."""
    lines = [
        line
        for line in (REPO / "flows" / "reminder.flow").read_text().splitlines()
        if not line.lstrip().startswith(("window ", "holiday"))
    ]
    lines.insert(lines.index('  caller_id "+12125550100"'), "  window sun 03:00-03:01 local")
    (flows_dir / "reminder.flow").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(REPO / "flows" / "reminder.tests.yaml", flows_dir / "reminder.tests.yaml")


def _browse(studio_url: str, shots: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1300})
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            page.goto(f"{studio_url}/test_call")
            callee = page.get_by_role("combobox", name="Simulated callee")
            assert callee.input_value().startswith(OLIVIA)  # the first callee, picked by default
            when = page.get_by_label("appointment_at (datetime)")
            when.fill("soon")
            when.press("Enter")
            page.get_by_role("button", name="Place test call").click()
            alert = page.get_by_test_id("stAlert").filter(has_text="cannot be used")
            expect(alert).to_contain_text("contact.appointment_at: cannot read 'soon' as datetime")
            page.screenshot(path=str(shots / "test_call_bad_contact.png"), full_page=True)

            when.fill("2026-11-29T15:00:00-05:00")
            when.press("Enter")
            page.get_by_role("button", name="Place test call").click()
            expect(page.get_by_text("(the calling window is closed now)")).to_be_visible()
            page.screenshot(path=str(shots / "test_call_scheduled.png"), full_page=True)
            page.get_by_role("button", name="Cancel this test call").click()
            expect(
                page.get_by_text("cancelled before it dialled (contact stopped)")
            ).to_be_visible()
            page.screenshot(path=str(shots / "test_call_cancelled.png"), full_page=True)

            page.get_by_text("Call now, even if the calling window is closed").click()
            page.get_by_role("button", name="Place test call").click()
            expect(
                page.get_by_text("dialling now, outside the calling windows (call now by admin)")
            ).to_be_visible()
            expect(
                page.get_by_text("workflow COMPLETED · contact final · outcome confirmed")
            ).to_be_visible()
            expect(page.get_by_text("Great, we'll see you then. Goodbye!")).to_be_visible()
            page.screenshot(path=str(shots / "test_call_now.png"), full_page=True)

            # The contact typed on Test call is the one Test chat greets, and an edit there
            # restarts the running chat with it.
            page.goto(f"{studio_url}/test_chat")
            page.get_by_role("button", name="Start chat").click()
            expect(page.get_by_text("Hi Olivia").first).to_be_visible()
            page.get_by_text("Contact and clock").click()
            area = page.get_by_label("Contact (YAML: the contact's columns the flow reads)")
            area.fill(area.input_value().replace("Olivia", "Noah"))
            area.press("Control+Enter")
            expect(page.get_by_text("the chat started over with it")).to_be_visible()
            expect(page.get_by_text("Hi Noah").first).to_be_visible()
            page.screenshot(path=str(shots / "test_chat_edited_contact.png"), full_page=True)
        finally:
            browser.close()


async def test_test_call_checks_the_contact_cancels_and_calls_now_and_chat_follows_edits(
    flows_dir: Path, api_server: str, worker: None, tmp_path: Path
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.now(ZoneInfo("America/New_York"))
    if (local.weekday(), local.hour, local.minute) == (6, 3, 0):
        pytest.skip("the test's calling window is open this very minute")
    _closed_window_reminder(flows_dir)
    with serve_studio(tmp_path, flows_dir, api_server) as studio_url:
        # Playwright's sync API in a thread of its own: this one runs the worker's loop.
        await asyncio.to_thread(_browse, studio_url, tmp_path)
