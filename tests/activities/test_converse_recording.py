"""What ``converse`` leaves behind: the stereo WAV of both legs and the call's row (live
transcript, outcome, node path, provider usage, cost, recording)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from runtime.db import calls
from telephony.audio.simspeech import SimSpeechDecoder
from tests.activities.test_converse import run_converse

SCRIPT = [{"listen": True}, {"say": "I can't make it"}, {"wait_ms": 20000}, {"hangup": True}]
REPLY = "No problem. Someone from the clinic will call you back to find a new time."


def _utterances(pcm: np.ndarray, rate: int) -> list[tuple[float, str]]:
    """Simulated speech decoded from one channel: (second the utterance ended, text)."""
    decoder = SimSpeechDecoder(rate)
    out: list[tuple[float, str]] = []
    step = rate // 50
    for at in range(0, len(pcm), step):
        for text in decoder.feed(pcm[at : at + step].tobytes()):
            out.append(((at + step) / rate, text))
    return out


async def test_recorded_call_is_a_stereo_wav_with_each_leg_on_its_own_time_line(
    pg_pool, tmp_path: Path
) -> None:
    result, _, _, attempt = await run_converse(pg_pool, tmp_path, SCRIPT)

    path = tmp_path / "recordings" / f"{attempt}.wav"
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        frames = wav.readframes(wav.getnframes())
        seconds = wav.getnframes() / 8000
    assert abs(seconds * 1000 - result.duration_ms) < 1500
    stereo = np.frombuffer(frames, dtype="<i2").reshape(-1, 2)
    caller = _utterances(stereo[:, 0].copy(), 8000)
    agent = _utterances(stereo[:, 1].copy(), 8000)
    assert [text for _, text in caller] == ["I can't make it"]
    assert agent[-1][1] == REPLY and len(agent) >= 2
    # One time line: the callee answers the greeting, and the agent replies after that.
    greeting_end, (said_at, _), reply_end = agent[0][0], caller[0], agent[-1][0]
    assert greeting_end < said_at < reply_end
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no leftovers


async def test_call_row_holds_transcript_outcome_usage_cost_and_recording(
    pg_pool, tmp_path: Path
) -> None:
    result, _, _, attempt = await run_converse(pg_pool, tmp_path, SCRIPT)

    detail = await calls.get_call(pg_pool, attempt)
    assert detail is not None
    row = detail.call
    assert (row.outcome, row.node_path, row.campaign) == (
        "rescheduled",
        ["greet", "reschedule"],
        "nov",
    )
    assert (row.phone, row.contact, row.provider) == ("+15551234567", "c-1", "local")
    assert row.recording == f"{attempt}.wav" and row.duration_ms == result.duration_ms
    assert set(row.usage) == {"local"} and row.usage["local"]["provider"] == "local"
    assert row.cost_usd == 0.0  # the local provider reports a cost of zero
    texts = [(t.role, t.text) for t in detail.transcript]
    assert ("caller", "I can't make it") in texts and ("agent", REPLY) in texts
    assert [t.seq for t in detail.transcript] == list(range(len(detail.transcript)))
    assert [t.name for t in detail.tool_calls] == ["schedule_callback"]


async def test_recording_turned_off_writes_no_file(pg_pool, tmp_path: Path) -> None:
    _, _, _, attempt = await run_converse(
        pg_pool, tmp_path, SCRIPT, environ={"VOXFLOW_RECORDING": "false"}
    )

    assert not (tmp_path / "recordings").exists()
    detail = await calls.get_call(pg_pool, attempt)
    assert detail is not None and detail.call.recording is None


async def test_unwritable_recordings_directory_costs_the_recording_not_the_call(
    pg_pool, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the recordings directory should be")

    result, _, _, attempt = await run_converse(
        pg_pool, tmp_path, SCRIPT, environ={"VOXFLOW_RECORDINGS_DIR": str(blocker / "recordings")}
    )

    assert result.outcome == "rescheduled" and result.error is None
    detail = await calls.get_call(pg_pool, attempt)
    assert detail is not None
    assert (detail.call.outcome, detail.call.recording) == ("rescheduled", None)
