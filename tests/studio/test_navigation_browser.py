"""The studio's navigation and keyboard in headless Chromium: a page opened first by its own
URL lists the pages by their titles, and a keyboard user can leave the flow editor (Tab
indents inside it; Esc, then Tab, moves on). Screenshots go to the test's ``tmp_path``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.studio.conftest import REPO, free_port, serve_studio
from tests.studio.test_e2e_browser import CHROMIUM, HEADLESS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

TITLES = ["Flows", "Test chat", "Test call", "Campaigns", "Calls", "Heat map", "Knowledge"]


@pytest.fixture
def studio_url(tmp_path: Path) -> Iterator[str]:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(REPO / "flows" / "reminder.flow", flows / "reminder.flow")
    with serve_studio(tmp_path, flows, f"http://127.0.0.1:{free_port()}") as url:
        yield url


def test_a_page_opened_first_by_its_url_lists_the_pages_by_title(
    studio_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(120_000)  # waits, not limits: a busy machine
            expect.set_options(timeout=120_000)
            page.goto(f"{studio_url}/campaigns")  # the studio's first visit
            expect(page.get_by_role("heading", name="Campaigns").first).to_be_visible()
            nav = page.get_by_test_id("stSidebarNav")
            for title in TITLES:
                expect(nav.get_by_role("link", name=title, exact=True)).to_be_visible()
            expect(nav.get_by_text("Operate")).to_be_visible()  # the sections too
            for raw in ("app", "test_chat", "test chat", "heatmap"):
                expect(nav.get_by_role("link", name=raw, exact=True)).to_have_count(0)
            page.screenshot(path=str(tmp_path / "navigation_by_url.png"), full_page=True)
        finally:
            browser.close()


def test_a_keyboard_user_leaves_the_flow_editor_with_esc_then_tab(
    studio_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            page.goto(studio_url)
            expect(page.get_by_text("No problems found.")).to_be_visible()
            expect(page.get_by_text("press Esc, then Tab, to leave the editor")).to_be_visible()
            frame = page.frame_locator("iframe[title='code_editor.code_editor']")
            text_input = frame.locator(".ace_text-input")
            frame.locator(".ace_content").click()
            page.keyboard.press("Control+Home")
            expect(text_input).to_be_focused()

            page.keyboard.press("Tab")  # inside the editor Tab indents
            expect(frame.locator(".ace_line").first).to_have_text(
                "  " + (REPO / "flows" / "reminder.flow").read_text().splitlines()[0]
            )
            expect(text_input).to_be_focused()

            page.keyboard.press("Escape")
            page.keyboard.press("Tab")
            expect(text_input).not_to_be_focused()
            # Tab goes on through the page: the editor's Save button, then out of the editor
            # to the page's own controls.
            for _ in range(10):
                if page.evaluate("document.activeElement.tagName") != "IFRAME":
                    break
                page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.tagName")
            assert focused in ("BUTTON", "A", "INPUT"), focused
            page.screenshot(path=str(tmp_path / "editor_left_by_keyboard.png"), full_page=True)
        finally:
            browser.close()
