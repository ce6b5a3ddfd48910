import pytest

from telephony.audio import AudioFrame, bytes_per_ms, silence


def test_frame_reports_samples_and_duration_from_its_rate():
    frame = AudioFrame(bytes(960), 24000)
    assert frame.samples == 480
    assert frame.duration_ms == 20.0
    assert AudioFrame(bytes(320), 8000).duration_ms == 20.0


def test_frame_rejects_odd_byte_count_and_unknown_rate():
    with pytest.raises(ValueError, match="even"):
        AudioFrame(b"\x00", 8000)
    with pytest.raises(ValueError, match="rate"):
        AudioFrame(b"", 11025)


def test_silence_has_the_requested_length():
    assert silence(20, 16000).pcm == bytes(640)
    assert bytes_per_ms(8000) == 16
