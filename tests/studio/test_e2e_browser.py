"""End to end in headless Chromium: the studio as a designer uses it.

Starts ``voxflow studio``'s command on a free loopback port against a temporary copy of an
example flow, breaks the flow in the editor, sees the compiler's diagnostic, fixes it, has one
test-chat turn, and saves a screenshot to ``tests/out/``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dsl import compile_source
from studio.launch import command
from tests.studio.conftest import REPO, free_port

CHROMIUM = Path("/usr/bin/chromium")
OUT = REPO / "tests" / "out"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def studio_url(tmp_path: Path) -> Iterator[str]:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("reminder.flow", "reminder.tests.yaml"):
        shutil.copy(REPO / "flows" / name, flows / name)
    port = free_port()
    env = {**os.environ, "VOXFLOW_API_URL": f"http://127.0.0.1:{free_port()}"}
    log = (tmp_path / "studio.log").open("wb")
    proc = subprocess.Popen(
        command(port=port, flows_dir=flows),
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail(
                    f"studio exited with {proc.returncode}: {(tmp_path / 'studio.log').read_text()}"
                )
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("studio did not answer /_stcore/health")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_designer_breaks_and_fixes_a_flow_then_chats_with_it(studio_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    original = (REPO / "flows" / "reminder.flow").read_text()
    broken = original.replace("-> confirmed", "-> confirmd", 1)
    diagnostic = next(
        d for d in compile_source(broken, file="reminder.flow").diagnostics if d.is_error
    )
    OUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            # Waits, not time limits: the first render imports the compiler, slow on a busy CI.
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            page.goto(studio_url)
            editor = page.locator("[data-testid=stTextArea] textarea").first
            expect(editor).to_have_value(original)
            expect(page.get_by_text("No problems found.")).to_be_visible()

            editor.fill(broken)
            page.get_by_role("button", name="Save", exact=True).click()
            headline = page.get_by_text(
                f":{diagnostic.line}:{diagnostic.col}: error {diagnostic.code}"
            )
            expect(headline.first).to_be_visible()
            expect(page.get_by_text(diagnostic.code).first).to_be_visible()

            editor.fill(original)
            page.get_by_role("button", name="Save", exact=True).click()
            expect(page.get_by_text("No problems found.")).to_be_visible()

            page.get_by_role("link", name="Test chat").click()
            page.get_by_role("button", name="Start chat").click()
            expect(page.get_by_text("Hi Olivia").first).to_be_visible()
            chat_input = page.get_by_placeholder("What the caller says")
            chat_input.fill("yes I'll be there")
            chat_input.press("Enter")
            expect(page.get_by_text("see you then", exact=False).first).to_be_visible()
            expect(page.get_by_text("call ended: confirmed")).to_be_visible()
            page.screenshot(path=str(OUT / "studio_e2e.png"), full_page=True)
        finally:
            browser.close()
