import numpy as np

from telephony.audio import AudioFrame, alaw_decode, alaw_encode, ulaw_decode, ulaw_encode


def _frame(values):
    return AudioFrame(np.array(values, dtype="<i2").tobytes(), 8000)


def test_ulaw_golden_bytes_for_zero_and_extremes():
    # G.711 μ-law: 0 -> 0xFF, full positive -> 0x80, full negative -> 0x00.
    assert ulaw_encode(_frame([0, 32767, -32768])) == bytes([0xFF, 0x80, 0x00])


def test_alaw_golden_bytes_for_zero_and_extremes():
    # G.711 A-law (even bits inverted): 0 -> 0xD5, full positive -> 0xAA, full negative -> 0x2A.
    assert alaw_encode(_frame([0, 32767, -32768])) == bytes([0xD5, 0xAA, 0x2A])


def test_g711_round_trip_stays_within_quantisation_error():
    values = np.linspace(-30000, 30000, 161).astype("<i2")
    frame = AudioFrame(values.tobytes(), 8000)
    for encode, decode in ((ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)):
        encoded = encode(frame)
        assert len(encoded) == 161
        back = np.frombuffer(decode(encoded).pcm, dtype="<i2").astype(int)
        # Companding keeps the error under ~1/16 of the magnitude (plus a small floor).
        assert np.all(np.abs(back - values) <= np.abs(values) / 16 + 64)
