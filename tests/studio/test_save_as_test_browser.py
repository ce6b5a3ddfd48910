"""Save as test in headless Chromium: a designer's chat becomes one more test at the end of
the tests file, the rest of the file unchanged. Screenshot in the test's ``tmp_path``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runtime.convtest.runner import run_file
from tests.studio.test_e2e_browser import CHROMIUM, HEADLESS, studio_url

__all__ = ["studio_url"]  # the fixture: the studio on the reminder flow and its tests

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


def test_save_as_test_appends_one_test_that_passes(studio_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    tests = tmp_path / "flows" / "reminder.tests.yaml"
    before = tests.read_text()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            page.goto(f"{studio_url}/test_chat")
            page.get_by_role("button", name="Start chat").click()
            expect(page.get_by_text("Hi Olivia").first).to_be_visible()
            said = page.get_by_placeholder("What the caller says")
            said.fill("I can't make it, call me back later")
            said.press("Enter")
            expect(page.get_by_text("call ended: rescheduled")).to_be_visible()
            name = page.get_by_label("Test name")
            name.fill("callback from the browser")
            name.press("Enter")  # Streamlit takes a text input's value on Enter or blur
            expect(name).to_have_value("callback from the browser")
            page.get_by_role("button", name="Save as test").click()
            expect(page.get_by_text("Saved test 'callback from the browser'")).to_be_visible()
            page.screenshot(path=str(tmp_path / "save_as_test.png"), full_page=True)
        finally:
            browser.close()
    after = tests.read_text()
    assert after.startswith(before) and after.count("- name:") == before.count("- name:") + 1
    assert "says_contains" not in after[len(before) :]  # node, tool and outcome by default
    result = asyncio.run(run_file(tests))
    assert result.passed
