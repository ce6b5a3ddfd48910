import wave

from telephony.audio import AudioFrame, CallRecorder


def test_both_legs_are_written_with_a_correct_wav_header(tmp_path):
    recorder = CallRecorder(tmp_path, "call-1", rate=8000)
    for _ in range(50):
        recorder.caller.write(AudioFrame(b"\x10\x00" * 160, 8000))
    recorder.agent.write(AudioFrame(bytes(960 * 25), 24000))  # 500 ms at 24 kHz
    recorder.close()

    with wave.open(str(tmp_path / "call-1.caller.wav")) as caller:
        assert (caller.getnchannels(), caller.getsampwidth(), caller.getframerate()) == (1, 2, 8000)
        assert caller.getnframes() == 8000
        assert caller.readframes(1) == b"\x10\x00"
    with wave.open(str(tmp_path / "call-1.agent.wav")) as agent:
        assert agent.getframerate() == 8000
        assert agent.getnframes() == 4000  # resampled, tail flushed on close

    raw = (tmp_path / "call-1.caller.wav").read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:16] == b"WAVEfmt "
    assert int.from_bytes(raw[4:8], "little") == len(raw) - 8


def test_a_leg_with_no_frames_for_a_while_is_filled_with_silence(tmp_path):
    from telephony.audio.recording import LegRecorder

    now = [100.0]
    leg = LegRecorder(tmp_path / "leg.wav", 8000, clock=lambda: now[0])
    voice = AudioFrame(b"\x10\x00" * 160, 8000)
    for _ in range(10):  # 200 ms of frames, on time
        now[0] += 0.02
        leg.write(voice)
    now[0] += 1.0  # a second with no frame: a line silent without RTP
    for _ in range(10):
        now[0] += 0.02
        leg.write(voice)
    leg.close()
    with wave.open(str(tmp_path / "leg.wav")) as wav:
        assert wav.getnframes() == 8000 * 1.4  # 200 ms + 1 s of silence + 200 ms
        pcm = wav.readframes(wav.getnframes())
    assert pcm[3200 : 3200 + 16000] == bytes(16000)
    assert pcm[-320:] == b"\x10\x00" * 160
