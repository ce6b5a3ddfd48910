import numpy as np
import pytest

from telephony.audio import AudioFrame, Resampler


def _tone(freq, rate, ms, amp=10000):
    t = np.arange(rate * ms // 1000) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype("<i2")


@pytest.mark.parametrize(
    ("src", "dst"), [(8000, 16000), (16000, 8000), (8000, 24000), (24000, 8000), (16000, 24000)]
)
def test_streaming_resampler_keeps_length_and_frequency(src, dst):
    resampler = Resampler(src, dst)
    tone = _tone(440, src, 1000)
    step = src // 50  # 20 ms frames
    out = [
        resampler.process(AudioFrame(tone[i : i + step].tobytes(), src))
        for i in range(0, len(tone), step)
    ]
    out.append(resampler.flush())
    assert all(f.rate == dst for f in out)
    pcm = np.frombuffer(b"".join(f.pcm for f in out), dtype="<i2")
    assert len(pcm) == dst  # one second in, one second out
    spectrum = np.abs(np.fft.rfft(pcm))
    assert abs(np.argmax(spectrum) - 440) <= 1  # bin width is 1 Hz over one second


def test_streamed_frames_equal_one_shot_resampling():
    tone = _tone(1000, 8000, 400)
    streamed = Resampler(8000, 24000)
    chunks = [
        streamed.process(AudioFrame(tone[i : i + 160].tobytes(), 8000)).pcm
        for i in range(0, len(tone), 160)
    ]
    chunks.append(streamed.flush().pcm)
    whole = Resampler(8000, 24000)
    one_shot = whole.process(AudioFrame(tone.tobytes(), 8000)).pcm + whole.flush().pcm
    a = np.frombuffer(b"".join(chunks), dtype="<i2").astype(int)
    b = np.frombuffer(one_shot, dtype="<i2").astype(int)
    assert len(a) == len(b) == 9600
    # Same samples up to float->int16 rounding: no state lost at the 20 ms boundaries.
    assert np.max(np.abs(a - b)) <= 2


def test_resampler_rejects_frames_of_another_rate():
    with pytest.raises(ValueError, match="16000"):
        Resampler(16000, 8000).process(AudioFrame(bytes(320), 8000))


def test_same_rate_passes_frames_through():
    frame = AudioFrame(b"\x01\x02" * 160, 8000)
    assert Resampler(8000, 8000).process(frame) is frame
