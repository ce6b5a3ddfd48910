"""The stereo call recorder places each leg's audio on one time line (a fake clock here)."""

from __future__ import annotations

import asyncio
import uuid
import wave
from pathlib import Path

import numpy as np

from runtime.call.recording import StereoRecorder
from telephony.audio.frames import AudioFrame
from telephony.audiosocket import AudioSocketClient, AudioSocketServer, codec

RATE = 8000


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frame(value: int, ms: int = 20, rate: int = RATE) -> AudioFrame:
    return AudioFrame(np.full(rate * ms // 1000, value, dtype="<i2").tobytes(), rate)


def channels(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int]]:
    with wave.open(str(path), "rb") as wav:
        header = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    return data[:, 0], data[:, 1], header


def ms(n: int) -> int:
    return RATE * n // 1000


def test_caller_frames_read_late_follow_the_ones_before_them(tmp_path: Path) -> None:
    clock = Clock()
    rec = StereoRecorder(tmp_path, "c0", clock=clock)
    clock.now += 0.020
    rec.caller(frame(100))
    clock.now += 0.500  # the loop stalled: the next frames are read at once, late
    for value in (200, 300, 400):
        rec.caller(frame(value))
    path = rec.close()

    left, _, _ = channels(path)
    assert len(left) == ms(80)
    assert [int(left[ms(20) * i]) for i in range(4)] == [100, 200, 300, 400]


def test_caller_stream_that_stopped_resumes_after_silence(tmp_path: Path) -> None:
    clock = Clock()
    rec = StereoRecorder(tmp_path, "c1", clock=clock)
    clock.now += 0.020
    rec.caller(frame(100))
    clock.now += 0.020
    rec.caller(frame(200))
    clock.now += 2.0  # nothing for two seconds, then one frame
    rec.caller(frame(300))
    path = rec.close()

    left, right, header = channels(path)
    assert header == (2, 2, RATE)
    assert len(left) == ms(2040)
    assert (left[: ms(20)] == 100).all() and (left[ms(20) : ms(40)] == 200).all()
    assert (left[ms(40) : ms(2020)] == 0).all() and (left[ms(2020) :] == 300).all()
    assert (right == 0).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1.wav"]


def test_agent_frames_that_continue_follow_and_a_new_run_starts_when_sent(tmp_path: Path) -> None:
    clock = Clock()
    rec = StereoRecorder(tmp_path, "c2", clock=clock)
    clock.now += 1.5
    rec.sent(frame(7), continues=False)  # the first frame of a response, sent at 1.5 s
    clock.now += 0.025  # the next one left 5 ms late: still right after the first
    rec.sent(frame(8), continues=True)
    clock.now += 0.5
    rec.sent(frame(9), continues=False)  # the next response, sent at 2.025 s
    rec.caller(frame(1, 20))  # the caller's frame read at 2.025 s covers 2.005-2.025
    path = rec.close()

    left, right, _ = channels(path)
    assert len(right) == ms(2045)
    assert (right[: ms(1500)] == 0).all()
    assert (right[ms(1500) : ms(1520)] == 7).all() and (right[ms(1520) : ms(1540)] == 8).all()
    assert (right[ms(1540) : ms(2025)] == 0).all() and (right[ms(2025) :] == 9).all()
    assert (left[ms(2005) : ms(2025)] == 1).all() and (left[: ms(2005)] == 0).all()


def test_frames_of_another_rate_are_resampled_to_the_recording_rate(tmp_path: Path) -> None:
    clock = Clock()
    rec = StereoRecorder(tmp_path, "c4", clock=clock)
    for _ in range(50):
        rec.sent(frame(1000, 20, rate=16000), continues=True)  # a 16 kHz slin line
    path = rec.close()

    _, right, header = channels(path)
    assert header[2] == RATE
    assert abs(len(right) - ms(1000)) <= ms(100)  # soxr holds back its filter delay


async def test_the_agent_leg_is_what_was_sent_and_a_barge_in_leaves_the_rest_out(
    tmp_path: Path,
) -> None:
    """Through a real AudioSocket line: the recorder is the session's tap, so the agent leg
    holds the frames the caller received, not what was queued (2 s here, cut after ~0.3 s)."""
    async with AudioSocketServer(trace=True, keepalive=True) as server:
        call_id = str(uuid.uuid4())
        client = await AudioSocketClient.connect(*server.address, call_id)
        session = await server.accept(call_id, timeout=2)
        rec = StereoRecorder(tmp_path, "c5", rate=session.wire_rate)
        session.tap = rec
        for _ in range(5):
            client.send_audio(frame(3))
        await client.drain()
        session.new_response()
        await session.play(frame(9, 2000))
        heard = 0
        while heard < 15:  # 0.3 s of it reached the caller (keep-alive silence aside)
            messages = await client.receive()
            heard += sum(1 for m in messages if isinstance(m, codec.Audio) and any(m.frame.pcm))
        session.interrupt()
        await asyncio.sleep(0.1)  # keep-alive silence only, from now on
        await client.close()
        await asyncio.wait_for(session.closed.wait(), 2)
    path = rec.close()

    left, right, header = channels(path)
    assert header == (2, 2, RATE)
    assert (left[left != 0] == 3).all() and np.count_nonzero(left) == ms(100)
    sent = len(session.send_times or [])
    assert sent >= 15 and np.count_nonzero(right) == ms(20) * sent < ms(2000)
    assert heard <= sent
