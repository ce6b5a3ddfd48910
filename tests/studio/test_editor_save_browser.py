"""The Flows page's Ace editor in headless Chromium: a Save right after a keystroke is never
lost to the editor's debounced change event.

The component sends one value at a time and Streamlit keeps only the latest (a newer value
replaces a rerun request still waiting, and a rerun ends the running script at its next
element), so a ``change`` sent after a ``submit`` would take the save with it. The keystroke
and the Save run in one browser task here, so the change, due 250 ms after the keystroke, is
always still pending when Save is pressed: the order of the two is decided by the page's
code, not by the machine's speed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.studio.conftest import REPO, free_port, serve_studio
from tests.studio.test_e2e_browser import CHROMIUM, HEADLESS, wait_for_file

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

RECORD_EVENTS = """
window.__editorEvents = [];
window.addEventListener("message", (e) => {
  const d = e.data;
  if (d && d.type === "streamlit:setComponentValue" && d.value && d.value.type) {
    window.__editorEvents.push(d.value.type);
  }
});
"""
"""Every value the editor component posts to the page (Streamlit's component protocol)."""

TYPE_THEN = """
([how, text]) => {
  const editor = document.querySelector(".ace_editor").env.editor;
  editor.navigateFileEnd();
  editor.insert(text);
  if (how === "button") {
    [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === "Save").click();
  } else {
    const keys = {key: "Enter", code: "Enter", keyCode: 13, ctrlKey: true, bubbles: true};
    editor.textInput.getElement().dispatchEvent(new KeyboardEvent("keydown", keys));
  }
}
"""
"""A keystroke and, in the same task, Save: the editor's button, or Ctrl+Enter in the editor."""


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(REPO / "flows" / "reminder.flow", flows / "reminder.flow")
    return flows


@pytest.fixture
def studio_url(tmp_path: Path, flows: Path) -> Iterator[str]:
    with serve_studio(tmp_path, flows, f"http://127.0.0.1:{free_port()}") as url:
        yield url


@pytest.mark.parametrize("how", ["button", "ctrl_enter"])
def test_a_save_right_after_a_keystroke_is_the_last_event_and_is_written(
    studio_url: str, flows: Path, how: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    path = flows / "reminder.flow"
    original = path.read_text()
    edited = original + "# saved at once\n"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.set_default_timeout(120_000)  # waits, not time limits: a busy CI is slow
            expect.set_options(timeout=120_000)
            page.add_init_script(RECORD_EVENTS)
            page.goto(studio_url)
            expect(page.get_by_text("No problems found.")).to_be_visible()
            frame = page.frame_locator("iframe[title='code_editor.code_editor']")
            expect(frame.locator(".ace_line").first).to_have_text(original.splitlines()[0])
            editor = next(f for f in page.frames if f.query_selector(".ace_editor"))

            editor.evaluate(TYPE_THEN, [how, "# saved at once\n"])
            wait_for_file(path, edited)
            expect(page.get_by_text("Saved reminder.flow")).to_be_visible()
            page.wait_for_timeout(1000)  # well past the editor's 250 ms debounce
            events = page.evaluate("window.__editorEvents")
        finally:
            browser.close()
    assert events.count("submit") == 1, events
    assert events[-1] == "submit", events  # nothing after the save can replace it
    assert "change" in events, events  # the keystroke's own event came, before the save
