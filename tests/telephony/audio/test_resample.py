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


# The telephone band: what a resampler between the phone's 8 kHz and a model's rate must keep
# flat, and must not fold anything into (bench/resample.py measures every quality; the
# thresholds are explained in docs/protocols.md, "Resampling with soxr").
BAND_HZ = range(100, 3401, 300)
ABOVE_THE_PHONE_HZ = range(4500, 11001, 500)
FLAT_DB = 0.5
ALIAS_DB = -50.0


def _through(resampler, pcm, rate):
    step = rate // 50
    out = [
        resampler.process(AudioFrame(pcm[i : i + step].tobytes(), rate)).pcm
        for i in range(0, len(pcm), step)
    ]
    out.append(resampler.flush().pcm)
    pcm = np.frombuffer(b"".join(out), dtype="<i2").astype(np.float64)
    return pcm[len(pcm) // 4 : 3 * len(pcm) // 4]  # steady state, away from both edges


def _resampler(src, dst, quality):
    return Resampler(src, dst) if quality is None else Resampler(src, dst, quality)


def _gain_db(src, dst, freq, quality=None):
    mid = _through(_resampler(src, dst, quality), _tone(freq, src, 500), src)
    t = np.arange(len(mid)) / dst
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, mid, rcond=None)
    return 20 * np.log10(np.hypot(*coef) / 10000)


def _folded_db(src, dst, freq, quality=None):
    tone = _tone(freq, src, 500)
    mid = _through(_resampler(src, dst, quality), tone, src)
    return 10 * np.log10(max(np.mean(mid**2), 1e-9) / np.mean(tone.astype(np.float64) ** 2))


@pytest.mark.parametrize(("src", "dst"), [(8000, 24000), (24000, 8000), (16000, 8000)])
def test_the_default_quality_keeps_the_telephone_band_flat(src, dst):
    gains = {freq: _gain_db(src, dst, freq) for freq in BAND_HZ}
    assert all(abs(g) <= FLAT_DB for g in gains.values()), gains


@pytest.mark.parametrize(("src", "dst"), [(24000, 8000), (16000, 8000)])
def test_the_default_quality_folds_nothing_above_4_khz_into_the_telephone_band(src, dst):
    folded = {f: _folded_db(src, dst, f) for f in ABOVE_THE_PHONE_HZ if f < src / 2}
    assert all(db < ALIAS_DB for db in folded.values()), folded


def test_these_checks_catch_a_quality_that_droops_or_aliases():
    # soxr's "LQ" keeps only ~80 % of the band: 3.4 kHz comes out several dB down.
    assert _gain_db(8000, 24000, 3400, "LQ") < -FLAT_DB
    assert _gain_db(24000, 8000, 3400, "LQ") < -FLAT_DB
    # "QQ" is cubic interpolation with no anti-alias filter: a 10 kHz tone folds to 2 kHz.
    assert _folded_db(24000, 8000, 10000, "QQ") > ALIAS_DB


def test_resampler_rejects_an_unsupported_rate_when_built():
    with pytest.raises(ValueError, match="11025"):
        Resampler(8000, 11025)


@pytest.mark.parametrize(("src", "dst", "chunk_ms"), [(8000, 24000, 40), (24000, 8000, 100)])
def test_chunks_come_out_as_soxr_gives_them_one_dimensional(src, dst, chunk_ms):
    import soxr

    tone = _tone(700, src, 600)
    step = src * chunk_ms // 1000
    ours, reference = Resampler(src, dst), soxr.ResampleStream(src, dst, 1, dtype="int16")
    for i in range(0, len(tone), step):
        chunk = tone[i : i + step]
        a = np.frombuffer(ours.process(AudioFrame(chunk.tobytes(), src)).pcm, dtype="<i2")
        b = reference.resample_chunk(chunk)
        assert len(a) == len(b)
        # soxr rounds its int16 output with a little noise: two streams fed the same samples
        # differ by up to 2 (measured), so that is the tolerance, not equality.
        assert np.max(np.abs(a.astype(int) - b.astype(int)), initial=0) <= 2
