"""End to end in headless Chromium: the studio as a designer uses it.

Starts ``voxflow studio``'s command on a free loopback port against a temporary copy of an
example flow, breaks the flow by typing into the Ace editor (inside the component's iframe),
sees the compiler's diagnostic in the list and as an annotation in the editor's gutter, fixes
it by typing again, has one test-chat turn, and saves a screenshot to ``tests/out/``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsl import compile_source
from tests.studio.conftest import REPO, free_port, serve_studio

CHROMIUM = Path("/usr/bin/chromium")
OUT = REPO / "tests" / "out"
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

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
    with serve_studio(tmp_path, flows, f"http://127.0.0.1:{free_port()}") as url:
        yield url


def wait_for_file(path: Path, text: str) -> None:
    """Wait (a bounded poll, not a time limit on the studio) until ``path`` holds ``text``."""
    for _ in range(1200):
        if path.read_text() == text:
            return
        time.sleep(0.1)
    assert path.read_text() == text


def test_designer_breaks_and_fixes_a_flow_then_chats_with_it(
    studio_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    original = (REPO / "flows" / "reminder.flow").read_text()
    broken = original.replace("-> confirmed", "-> confirmd", 1)
    diagnostic = next(
        d for d in compile_source(broken, file="reminder.flow").diagnostics if d.is_error
    )
    studio_flow = tmp_path / "flows" / "reminder.flow"
    OUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=HEADLESS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            # Waits, not time limits: the first render imports the compiler, slow on a busy CI.
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            page.goto(studio_url)
            expect(page.get_by_text("No problems found.")).to_be_visible()
            editor = page.frame_locator("iframe[title='code_editor.code_editor']")
            expect(editor.locator(".ace_line").first).to_have_text(original.splitlines()[0])
            target = next(
                i for i, text in enumerate(original.splitlines()) if "-> confirmed" in text
            )
            assert original.splitlines()[target].endswith("-> confirmed")

            def caret_before_last_letter_of_target_line() -> None:
                editor.locator(".ace_content").click()
                page.keyboard.press("Control+Home")
                for _ in range(target):
                    page.keyboard.press("ArrowDown")
                page.keyboard.press("End")
                page.keyboard.press("ArrowLeft")

            caret_before_last_letter_of_target_line()
            page.keyboard.press("Backspace")  # "-> confirmed" becomes "-> confirmd"
            editor.get_by_role("button", name="Save").click()  # the editor's own
            headline = page.get_by_text(
                f":{diagnostic.line}:{diagnostic.col}: error {diagnostic.code}"
            )
            expect(headline.first).to_be_visible()
            expect(page.get_by_text(diagnostic.code).first).to_be_visible()
            # the same diagnostic as an error annotation in the editor's gutter, on its line
            gutter = editor.locator(".ace_gutter-cell.ace_error")
            expect(gutter).to_have_count(1)
            expect(gutter).to_have_text(str(diagnostic.line))
            expect(editor.locator(".vf-marker-error")).to_have_count(1)  # "confirmd" underlined
            page.wait_for_timeout(500)  # let Ace finish drawing before the picture
            page.screenshot(path=str(OUT / "studio_e2e_editor.png"), full_page=True)
            wait_for_file(studio_flow, broken)

            caret_before_last_letter_of_target_line()
            page.keyboard.type("e")
            editor.get_by_role("button", name="Save").click()  # the editor's own
            expect(page.get_by_text("No problems found.")).to_be_visible()
            expect(editor.locator(".ace_gutter-cell.ace_error")).to_have_count(0)
            expect(editor.locator(".vf-marker-error")).to_have_count(0)
            wait_for_file(studio_flow, original)

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


def test_caller_records_a_turn_in_the_browser_and_hears_the_reply(
    studio_url: str, tmp_path: Path
) -> None:
    """Chromium's fake microphone plays a WAV of simulated speech into ``st.audio_input``;
    the recording goes down the live call's AudioSocket line to the local provider, and the
    reply comes back as audio the page can play."""
    from playwright.sync_api import expect, sync_playwright

    from studio.voice import wav_bytes
    from telephony.audio.frames import AudioFrame, silence
    from telephony.audio.simspeech import encode

    said = "yes I'll be there"
    speech = silence(1000, 48000).pcm + encode(said, 48000) + silence(3000, 48000).pcm
    microphone = tmp_path / "microphone.wav"
    microphone.write_bytes(wav_bytes(AudioFrame(speech, 48000)))
    OUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                *HEADLESS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={microphone}%noloop",
            ],
        )
        try:
            context = browser.new_context(
                viewport={"width": 1600, "height": 2000}, permissions=["microphone"]
            )
            page = context.new_page()
            page.set_default_timeout(120_000)
            expect.set_options(timeout=120_000)
            page.goto(studio_url)
            page.get_by_role("link", name="Test call").click()
            page.get_by_role("button", name="Start voice call").click()
            expect(page.get_by_text("Hi Olivia").first).to_be_visible()

            page.get_by_role("button", name="Record").click()
            expect(page.get_by_text("00:05")).to_be_visible()  # the whole clip was captured
            page.get_by_role("button", name="Stop recording").click()

            expect(page.get_by_text(f"heard: “{said}”")).to_be_visible()
            expect(page.get_by_text("Great, we'll see you then. Goodbye!")).to_be_visible()
            expect(page.get_by_text("call ended: confirmed")).to_be_visible()
            replies = page.locator("[data-testid=stAudio]")
            expect(replies).to_have_count(2)  # the greeting and the reply
            reply = replies.nth(1)
            reply.evaluate("a => a.load()")
            expect(reply).to_have_js_property("readyState", 4)
            assert reply.evaluate("a => a.duration") > 0.5
            page.screenshot(path=str(OUT / "studio_voice_e2e.png"), full_page=True)
        finally:
            browser.close()
