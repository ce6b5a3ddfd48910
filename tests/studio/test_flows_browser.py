"""The Flows page in headless Chromium, as a designer manages flow files: create one, refuse
an unsafe name, duplicate, rename, delete after confirming; break a flow and keep seeing its
last good graph with the failing node marked; an editor as wide as the page; and no request
leaves the machine (the editor fetches no web font). Screenshots go to the test's
``tmp_path``."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.studio.conftest import REPO, free_port, serve_studio
from tests.studio.test_e2e_browser import CHROMIUM, HEADLESS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    for name in ("reminder.flow", "reminder.tests.yaml"):
        shutil.copy(REPO / "flows" / name, folder / name)
    return folder


@pytest.fixture
def studio_url(tmp_path: Path, flows: Path) -> Iterator[str]:
    with serve_studio(tmp_path, flows, f"http://127.0.0.1:{free_port()}") as url:
        yield url


def test_designer_creates_duplicates_renames_deletes_and_keeps_the_graph_through_errors(
    studio_url: str, flows: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            hosts: set[str] = set()
            page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or r.url))

            def open_actions() -> None:
                """Open the expander of file actions unless it stayed open."""
                if not page.get_by_label("New flow name").is_visible():
                    page.get_by_text("New, duplicate, rename or delete a flow file").click()
                expect(page.get_by_label("New flow name")).to_be_visible()

            page.goto(studio_url)  # the Flows page is the studio's first
            expect(page.get_by_text("No problems found.")).to_be_visible()
            open_actions()

            page.get_by_label("New flow name").fill("../escape")
            page.get_by_role("button", name="Create").click()
            expect(page.get_by_text("'../escape' is not a flow name")).to_be_visible()
            page.get_by_label("New flow name").fill("billing")
            page.get_by_role("button", name="Create").click()
            expect(page.get_by_text("Created billing.flow.")).to_be_visible()
            expect(page.get_by_text("No problems found.")).to_be_visible()
            assert (flows / "billing.flow").is_file()
            page.screenshot(path=str(tmp_path / "flows_created.png"), full_page=True)

            open_actions()
            other = page.get_by_label("New name for billing.flow")
            other.fill("billing_copy")
            other.press("Enter")  # a text input sends its value on Enter (or when left)
            page.get_by_role("button", name="Duplicate").click()
            expect(
                page.get_by_text("Duplicated billing.flow as billing_copy.flow.")
            ).to_be_visible()
            open_actions()
            other = page.get_by_label("New name for billing_copy.flow")
            other.fill("invoices")
            other.press("Enter")
            page.get_by_role("button", name="Rename").click()
            expect(page.get_by_text("Renamed billing_copy.flow as invoices.flow.")).to_be_visible()
            assert sorted(p.name for p in flows.glob("*.flow")) == [
                "billing.flow",
                "invoices.flow",
                "reminder.flow",
            ]
            open_actions()
            delete = page.get_by_role("button", name="Delete")
            expect(delete).to_be_disabled()  # until the confirmation is ticked
            page.get_by_text("Yes, delete invoices.flow").click()
            delete.click()
            expect(page.get_by_text("Deleted invoices.flow.")).to_be_visible()
            assert not (flows / "invoices.flow").exists()
            page.screenshot(path=str(tmp_path / "flows_managed.png"), full_page=True)

            # billing.flow broken in the editor: its last good graph stays, greet in red
            choose = page.get_by_role("combobox", name="Flow file")
            expect(choose).to_have_count(1)  # the run after the delete has finished
            expect(choose).to_have_value("billing.flow")
            expect(page.get_by_text("No problems found.")).to_be_visible()
            editor_frame = page.locator("iframe[title='code_editor.code_editor']")
            # as wide as the page's content (the diagnostics' full-width box), not a column
            full = page.get_by_test_id("stAlert").filter(has_text="No problems found.")
            expect(editor_frame).to_have_count(1)  # the last run's editor has gone
            expect(editor_frame).to_have_attribute("height", re.compile(r"^[1-9]"))
            expect(editor_frame).to_be_visible()
            expect(full).to_be_visible()
            frame_width = editor_frame.bounding_box()["width"]
            assert frame_width >= 0.98 * full.bounding_box()["width"], frame_width
            editor = page.frame_locator("iframe[title='code_editor.code_editor']")
            original = (flows / "billing.flow").read_text().splitlines()
            target = next(i for i, t in enumerate(original) if t.endswith("-> goodbye"))
            editor.locator(".ace_content").click()
            page.keyboard.press("Control+Home")
            for _ in range(target):
                page.keyboard.press("ArrowDown")
            page.keyboard.press("End")
            page.keyboard.press("Backspace")
            editor.get_by_role("button", name="Save").click()
            expect(
                page.get_by_text("this is the last graph that compiled; nodes with errors are red")
            ).to_be_visible()
            graph = page.get_by_test_id("stGraphVizChart")
            expect(graph.locator("svg")).to_contain_text("(has errors)")
            page.wait_for_timeout(500)  # let the graph finish drawing before the picture
            page.screenshot(path=str(tmp_path / "flows_last_good_graph.png"), full_page=True)
            graph.screenshot(path=str(tmp_path / "flows_graph_failing_node.png"))
        finally:
            browser.close()
    assert hosts <= {"127.0.0.1"}, hosts  # no web font, nothing fetched from outside
