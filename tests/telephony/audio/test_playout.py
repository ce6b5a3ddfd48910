from telephony.audio import AudioFrame, PlayoutBuffer


def test_push_reframes_any_size_into_20ms_wire_frames():
    buffer = PlayoutBuffer(8000)
    buffer.push(AudioFrame(bytes(range(200)) * 2, 8000))  # 400 bytes = 25 ms
    assert len(buffer) == 1
    buffer.push(AudioFrame(bytes(240), 8000))  # 80 + 240 = 320 -> second frame
    assert len(buffer) == 2
    first = buffer.pop()
    assert first == (bytes(range(200)) * 2)[:320]


def test_push_resamples_24k_to_the_wire_rate():
    buffer = PlayoutBuffer(8000)
    buffer.push(AudioFrame(bytes(960 * 10), 24000))  # 200 ms at 24 kHz
    buffer.end_of_audio()
    frames = []
    while (f := buffer.pop()) is not None:
        frames.append(f)
    assert all(len(f) == 320 for f in frames)
    assert len(frames) == 10  # the resampler's tail is flushed at the end of the audio


def test_clear_reports_only_what_was_popped_and_empties_the_queue():
    buffer = PlayoutBuffer(8000)
    buffer.push(AudioFrame(bytes(320 * 50), 8000))
    for _ in range(7):
        buffer.pop()
    assert buffer.played_ms == 140
    assert buffer.clear() == 140
    assert buffer.pop() is None
    assert buffer.played_ms == 0
    assert buffer.total_played_ms == 140


def test_end_of_audio_pads_the_tail_with_silence():
    buffer = PlayoutBuffer(8000)
    buffer.push(AudioFrame(b"\x01\x00" * 10, 8000))
    assert buffer.pop() is None
    buffer.end_of_audio()
    assert buffer.pop() == b"\x01\x00" * 10 + bytes(300)
