"""The stereo call recorder places each leg's audio on one time line (a fake clock here)."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np

from runtime.call.recording import RecordingMedia, StereoRecorder
from telephony.audio.frames import AudioFrame

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


def test_agent_audio_starts_when_queued_idle_and_follows_what_was_queued(tmp_path: Path) -> None:
    clock = Clock()
    rec = StereoRecorder(tmp_path, "c2", clock=clock)
    clock.now += 1.5
    rec.agent(frame(7, 100), idle=True)  # plays from 1.5 s
    rec.agent(frame(8, 100), idle=False)  # queued behind it: 1.6 s
    rec.caller(frame(1, 20))  # the caller's first frame, at 1.5 s: covers 1.48-1.50
    path = rec.close()

    left, right, _ = channels(path)
    assert len(right) == ms(1700)
    assert (right[: ms(1500)] == 0).all()
    assert (right[ms(1500) : ms(1600)] == 7).all() and (right[ms(1600) :] == 8).all()
    assert (left[ms(1480) : ms(1500)] == 1).all() and (left[: ms(1480)] == 0).all()


def test_barge_in_cuts_the_agent_audio_that_was_never_played(tmp_path: Path) -> None:
    clock = Clock()
    rec = StereoRecorder(tmp_path, "c3", clock=clock)
    rec.agent(frame(5, 2000), idle=True)  # two seconds queued at once
    clock.now += 0.3
    rec.interrupted()  # the caller spoke 300 ms in
    clock.now += 0.2
    rec.agent(frame(6, 100), idle=True)  # the next response, 200 ms later
    path = rec.close()

    _, right, _ = channels(path)
    assert (right[: ms(300)] == 5).all()
    assert (right[ms(300) : ms(500)] == 0).all()
    assert (right[ms(500) : ms(600)] == 6).all() and len(right) == ms(600)


def test_frames_of_another_rate_are_resampled_to_the_recording_rate(tmp_path: Path) -> None:
    clock = Clock()
    rec = StereoRecorder(tmp_path, "c4", clock=clock)
    for _ in range(50):
        rec.agent(frame(1000, 20, rate=24000), idle=False)
    path = rec.close()

    _, right, header = channels(path)
    assert header[2] == RATE
    assert abs(len(right) - ms(1000)) <= ms(100)  # soxr holds back its filter delay


class FakeMedia:
    """What the bridge uses of a media session, with the calls it received."""

    def __init__(self, items: list[object]) -> None:
        self.items = items
        self.closed = asyncio.Event()
        self.queued_ms = 0
        self.played: list[AudioFrame] = []
        self.wire_rate = RATE

    async def incoming(self):
        for item in self.items:
            yield item

    async def play(self, f: AudioFrame) -> None:
        self.played.append(f)
        self.queued_ms += int(f.duration_ms)

    def interrupt(self) -> int:
        self.queued_ms = 0
        return 40


async def test_recording_media_passes_everything_through_and_records_it(tmp_path: Path) -> None:
    clock = Clock()
    rec = StereoRecorder(tmp_path, "c5", clock=clock)
    inner = FakeMedia([frame(3), "5"])  # a frame and a DTMF digit
    media = RecordingMedia(inner, rec)

    got = [item async for item in media.incoming()]
    await media.play(frame(9, 60))
    assert media.interrupt() == 40 and media.wire_rate == RATE
    path = rec.close()

    assert [type(i).__name__ for i in got] == ["AudioFrame", "str"]
    assert len(inner.played) == 1 and inner.queued_ms == 0
    left, right, _ = channels(path)
    assert (left == 3).all()
    assert len(right) == 0 or (right == 0).all()  # cut at once: none of it was played
