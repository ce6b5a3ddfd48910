import numpy as np
import pytest

from telephony.audio import AudioFrame, Resampler
from telephony.audio.simspeech import SimSpeechDecoder, encode, utterance_ms

LINES = ["Yes.", "No, please don't call me again.", "Call me back tomorrow at 3 pm", "ünïcödé ✓"]


def _frames(pcm, size):
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def test_utterances_decode_from_20ms_frames_after_leading_silence():
    stream = bytes(2 * 777) + encode(LINES[1]) + bytes(320)
    decoder = SimSpeechDecoder()
    out = [text for frame in _frames(stream, 320) for text in decoder.feed(frame)]
    assert out == [LINES[1]]


def test_decoding_survives_8_24_8_resampling_noise_and_odd_chunking():
    rng = np.random.default_rng(7)
    stream = b"".join(bytes(2 * int(rng.integers(0, 2000))) + encode(t) for t in LINES) + bytes(
        3200
    )
    samples = np.frombuffer(stream, "<i2").astype(int) + rng.normal(
        0, 300, len(stream) // 2
    ).astype(int)
    stream = samples.clip(-32768, 32767).astype("<i2").tobytes()
    up, down, decoder = Resampler(8000, 24000), Resampler(24000, 8000), SimSpeechDecoder()
    out, i = [], 0
    while i < len(stream):
        n = 2 * int(rng.integers(1, 400))
        out += decoder.feed(down.process(up.process(AudioFrame(stream[i : i + n], 8000))).pcm)
        i += n
    assert out == LINES
    assert decoder.rejected == 0


@pytest.mark.parametrize("rate", [16000, 24000])
def test_encoding_at_another_rate_decodes_at_that_rate(rate):
    decoder = SimSpeechDecoder(rate)
    pcm = encode(LINES[2], rate) + bytes(rate // 2)  # 250 ms: covers the resampler block latency
    out = [t for f in _frames(pcm, rate // 50 * 2) for t in decoder.feed(f)]
    assert out == [LINES[2]]


def test_speaking_is_true_only_while_an_utterance_is_heard():
    decoder = SimSpeechDecoder()
    frames = _frames(bytes(640) + encode(LINES[1]) + bytes(640), 320)
    states = []
    for frame in frames:
        decoder.feed(frame)
        states.append(decoder.speaking)
    assert states[:2] == [False, False]
    assert True in states
    assert states[-1] is False
    first, last = states.index(True), len(states) - 1 - states[::-1].index(True)
    assert all(states[first : last + 1])  # one contiguous stretch of "speaking"


def test_a_corrupted_utterance_is_rejected_not_misread():
    pcm = bytearray(encode("confirm"))
    mid = len(pcm) // 2 + 300
    pcm[mid : mid + 400] = bytes(400)  # 25 ms of dropout in the payload
    decoder = SimSpeechDecoder()
    out = [t for f in _frames(bytes(pcm) + bytes(640), 320) for t in decoder.feed(f)]
    assert out == []
    assert decoder.rejected == 1
    assert decoder.speaking is False
    assert [t for f in _frames(encode("again") + bytes(320), 320) for t in decoder.feed(f)] == [
        "again"
    ]


def test_speech_rate_is_at_least_100_characters_per_second_for_a_sentence():
    line = "Hello, this is Ava from the clinic calling about tomorrow."
    assert len(encode(line)) / 16 == utterance_ms(line)
    assert len(line) / (utterance_ms(line) / 1000) >= 100


def test_silence_and_white_noise_decode_to_nothing():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 4000, 8000 * 3).clip(-32768, 32767).astype("<i2").tobytes()
    decoder = SimSpeechDecoder()
    assert [t for f in _frames(bytes(16000) + noise, 320) for t in decoder.feed(f)] == []


FIRST = "First sentence, which the caller talks over before it ends."
SECOND = "Second sentence."


def _cut(text, fraction):
    pcm = encode(text)
    return pcm[: int(len(pcm) * fraction) // 2 * 2]


def _decode_20ms(decoder, stream):
    return [t for f in _frames(stream, 320) for t in decoder.feed(f)]


@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.5, 0.9])
def test_an_utterance_cut_short_then_silence_does_not_block_the_next_one(fraction):
    decoder = SimSpeechDecoder()
    assert _decode_20ms(decoder, _cut(FIRST, fraction) + bytes(1600)) == []
    assert decoder.speaking is False  # 100 ms of silence after the cut ends "speaking"
    assert _decode_20ms(decoder, encode(SECOND) + bytes(320)) == [SECOND]
    assert decoder.speaking is False


@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.5, 0.9])
def test_an_utterance_cut_short_straight_into_a_new_preamble_decodes_the_new_one(fraction):
    decoder = SimSpeechDecoder()
    stream = _cut(FIRST, fraction) + encode(SECOND) + bytes(320)
    assert _decode_20ms(decoder, stream) == [SECOND]
    assert decoder.speaking is False


@pytest.mark.parametrize("gap", [0, 2 * 400])
def test_a_cut_utterance_then_the_next_decodes_after_8_24_8_resampling(gap):
    stream = _cut(FIRST, 0.5) + bytes(gap) + encode(SECOND) + encode(LINES[2]) + bytes(3200)
    up, down, decoder = Resampler(8000, 24000), Resampler(24000, 8000), SimSpeechDecoder()
    out = []
    for frame in _frames(stream, 320):
        out += decoder.feed(down.process(up.process(AudioFrame(frame, 8000))).pcm)
    assert out == [SECOND, LINES[2]]
    assert decoder.speaking is False


@pytest.mark.parametrize("samples", [60, 119, 226, 300])
def test_a_preamble_cut_short_straight_into_a_new_preamble_decodes_the_new_one(samples):
    # the two 1000 Hz runs join into one longer than a preamble: sync must find the later step
    decoder = SimSpeechDecoder()
    stream = encode(FIRST)[: 2 * samples] + encode(SECOND) + bytes(320)
    assert _decode_20ms(decoder, stream) == [SECOND]
    assert decoder.speaking is False
