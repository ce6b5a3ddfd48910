import uuid

import pytest

from telephony.audio import AudioFrame
from telephony.audiosocket import codec

CALL = uuid.UUID("0f0e0d0c-0b0a-0908-0706-050403020100")


def test_uuid_message_golden_bytes():
    assert codec.encode(codec.Uuid(CALL)) == bytes.fromhex("010010") + bytes.fromhex(
        "0f0e0d0c0b0a09080706050403020100"
    )


def test_hangup_dtmf_error_golden_bytes():
    assert codec.encode(codec.Hangup()) == b"\x00\x00\x00"
    assert codec.encode(codec.Dtmf("#")) == b"\x03\x00\x01#"
    assert codec.encode(codec.Error(b"\x02")) == b"\xff\x00\x01\x02"


@pytest.mark.parametrize(
    ("rate", "kind"),
    [
        (8000, 0x10),
        (12000, 0x11),
        (16000, 0x12),
        (24000, 0x13),
        (32000, 0x14),
        (44100, 0x15),
        (48000, 0x16),
        (96000, 0x17),
        (192000, 0x18),
    ],
)
def test_audio_kind_follows_the_frame_rate(rate, kind):
    pcm = b"\x01\x02" * 160
    assert codec.encode(codec.Audio(AudioFrame(pcm, rate))) == bytes([kind, 0x01, 0x40]) + pcm


def test_decode_recovers_every_kind():
    stream = (
        codec.encode(codec.Uuid(CALL))
        + codec.audio(b"\x00\x01" * 4, 16000)
        + codec.encode(codec.Dtmf("7"))
        + codec.encode(codec.Error(b""))
        + codec.encode(codec.Hangup())
    )
    assert codec.decode_all(stream) == [
        codec.Uuid(CALL),
        codec.Audio(AudioFrame(b"\x00\x01" * 4, 16000)),
        codec.Dtmf("7"),
        codec.Error(b""),
        codec.Hangup(),
    ]


def test_incremental_decoder_handles_every_split_point():
    stream = (
        codec.encode(codec.Uuid(CALL))
        + codec.audio(bytes(range(256)) + bytes(64))
        + codec.encode(codec.Dtmf("A"))
    )
    expected = codec.decode_all(stream)
    for cut in range(len(stream) + 1):
        decoder = codec.Decoder()
        got = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert got == expected
        assert decoder.pending == 0


def test_byte_by_byte_feeding_yields_each_message_once_complete():
    decoder = codec.Decoder()
    out = [m for b in codec.encode(codec.Dtmf("5")) for m in decoder.feed(bytes([b]))]
    assert out == [codec.Dtmf("5")]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x02\x00\x00", "unknown message kind 0x02"),
        (b"\x10\x00\x00", "audio message with 0 bytes"),
        (b"\x10\x00\x03abc", "audio message with 3 bytes"),
        (b"\x01\x00\x04abcd", "UUID message needs 16 bytes"),
        (b"\x03\x00\x01x", "DTMF message"),
        (b"\x00\x00\x01x", "hang-up message"),
    ],
)
def test_malformed_messages_are_protocol_errors(data, fragment):
    with pytest.raises(codec.ProtocolError, match=fragment):
        codec.decode_all(data)


def test_messages_before_a_malformed_one_are_kept_and_the_decoder_stays_failed():
    decoder = codec.Decoder()
    got = decoder.feed(codec.encode(codec.Dtmf("1")) + b"\x7f\x00\x00")
    assert got == [codec.Dtmf("1")]
    assert isinstance(decoder.error, codec.ProtocolError)
    with pytest.raises(codec.ProtocolError):
        decoder.feed(codec.encode(codec.Dtmf("2")))


def test_encoder_refuses_what_asterisk_would_reject():
    with pytest.raises(ValueError, match="DTMF"):
        codec.encode(codec.Dtmf("x"))
    with pytest.raises(ValueError, match="1..65535"):
        codec.encode(codec.Audio(AudioFrame(b"", 8000)))


def test_audio_shortcut_equals_the_general_encoder_and_checks_its_input():
    pcm = bytes(range(200)) * 2
    assert codec.audio(pcm, 24000) == codec.encode(codec.Audio(AudioFrame(pcm, 24000)))
    with pytest.raises(ValueError, match="11025"):
        codec.audio(pcm, 11025)
    with pytest.raises(ValueError, match="even"):
        codec.audio(b"\x00\x01\x02", 8000)


def test_a_read_of_one_audio_message_is_copied_out_of_the_shared_receive_buffer():
    received = bytearray(codec.audio(b"\x01\x02" * 160))
    frames: list[AudioFrame] = []
    codec.Decoder().feed_into(memoryview(received), frames.append, pytest.fail)
    received[3:] = bytes(320)  # the server's next read lands in the same buffer
    assert frames == [AudioFrame(b"\x01\x02" * 160, 8000)]
    assert type(frames[0].pcm) is bytes


@pytest.mark.parametrize("payload", [b"", b"\x01\x02\x03"])
def test_a_read_of_one_empty_or_odd_audio_message_is_a_protocol_error(payload):
    decoder = codec.Decoder()
    message = bytes([0x10, 0, len(payload)]) + payload
    decoder.feed_into(memoryview(message), pytest.fail, pytest.fail)
    assert isinstance(decoder.error, codec.ProtocolError)
