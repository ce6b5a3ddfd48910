"""The Test call page's voice section, driven with AppTest: a live call over the local
provider, turns by typed simulated speech and by a recording in ``st.audio_input``, the reply
played back with its transcript and node path, and hang-up cleaning the call away."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.state import editor_key
from studio.voice import VoiceCall, wav_bytes
from studio.voice.section import CALL, LOCAL_NOTE, SAY
from telephony.audio.frames import AudioFrame
from telephony.audio.simspeech import encode
from tests.studio.conftest import PAGES, REPO

CONFIRMED = "Great, we'll see you then. Goodbye!"


@pytest.fixture
def page(flows_dir: Path, closed_api: str) -> Iterator[AppTest]:
    for name in ("reminder.flow", "reminder.tests.yaml"):
        shutil.copy(REPO / "flows" / name, flows_dir / name)
    at = AppTest.from_file(str(PAGES / "test_call.py"), default_timeout=90).run()
    try:
        yield at
    finally:
        call = at.session_state[CALL] if CALL in at.session_state else None
        if call is not None:
            call.close()


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _assistant_text(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def _start(at: AppTest) -> VoiceCall:
    _button(at, "Start voice call").click().run()
    assert not at.exception and not at.error
    return at.session_state[CALL]


def test_local_provider_is_explained_and_nothing_runs_before_start(page: AppTest) -> None:
    assert not page.exception
    assert any(LOCAL_NOTE in i.value for i in page.info)
    assert CALL not in page.session_state
    assert not page.audio_input


def test_start_plays_the_greeting_and_a_typed_line_is_spoken_down_the_line(
    page: AppTest,
) -> None:
    call = _start(page)
    assert len(page.get("audio")) == 1  # the greeting, as audio
    assert any(text.startswith("Hi Olivia") for text in _assistant_text(page))

    page.text_input(key=SAY).set_value("yes I'll be there")
    next(b for b in page.button if b.label == "Speak").click().run()

    assert not page.exception
    assert [e.value for e in page.error] == []
    assert len(page.get("audio")) == 2
    assert CONFIRMED in _assistant_text(page)
    assert call.node_path == ["greet", "confirmed"]
    assert any("call ended: confirmed" in c.value for c in page.caption)
    assert not page.audio_input  # the call is over: nothing more to record


def test_a_recording_is_sent_once_and_answered(page: AppTest) -> None:
    call = _start(page)
    clip = wav_bytes(AudioFrame(encode("yes I'll be there", 16000), 16000))

    page.audio_input[0].set_value(("turn.wav", clip, "audio/wav")).run()
    page.run()  # the recording stays in its widget: it must not be sent again

    assert not page.exception and not page.error
    assert [t.caller.split(",")[0] for t in call.turns] == ["", "recording"]
    assert CONFIRMED in _assistant_text(page)
    assert call.outcome == "confirmed"


def test_hang_up_ends_the_call_and_forgets_it(page: AppTest) -> None:
    call = _start(page)

    _button(page, "Hang up").click().run()

    assert not page.exception
    assert CALL not in page.session_state
    assert call.ended and call.result is not None and call.result.ended_by == "caller"


def test_the_call_runs_the_flow_being_edited_and_refuses_one_with_errors(
    page: AppTest, flows_dir: Path
) -> None:
    path = flows_dir / "reminder.flow"
    broken = path.read_text().replace("-> confirmed", "-> confirmd", 1)
    page.session_state[editor_key(str(path))] = broken  # unsaved edits on the Flows page

    page.run()

    assert not page.exception
    [error] = page.error
    assert "reminder.flow" in error.value
    assert not [b for b in page.button if b.label == "Start voice call"]
