"""The masked text and binary frames, byte for byte: RFC 6455's own examples, and every
length encoding read back by websockets' frame parser as a server would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from runtime.providers.wsframe import masked_binary_frame, masked_text_frame


def test_rfc_6455_masked_hello_example() -> None:
    # RFC 6455 §5.7: "A single-frame masked text message" with mask 37 fa 21 3d.
    frame = masked_text_frame(b"Hello", bytes.fromhex("37fa213d"))
    assert frame == bytes.fromhex("818537fa213d7f9f4d5158")


def test_rfc_6455_masked_binary_example_head_and_payload() -> None:
    # RFC 6455 §5.7: "256 bytes binary message in a single unmasked frame" is 0x82 0x7E 0x0100;
    # masked, the second byte gains the mask bit and the 4-byte key follows the length.
    payload = bytes(range(256))
    frame = masked_binary_frame(payload, bytes.fromhex("37fa213d"))
    assert frame[:8] == bytes.fromhex("82fe010037fa213d")
    assert frame[8:12] == bytes((0x00 ^ 0x37, 0x01 ^ 0xFA, 0x02 ^ 0x21, 0x03 ^ 0x3D))


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
@pytest.mark.parametrize(
    ("build", "opcode"),
    [(masked_text_frame, Opcode.TEXT), (masked_binary_frame, Opcode.BINARY)],
    ids=["text", "binary"],
)
def test_each_length_encoding_parses_back_as_one_masked_frame(
    size: int, build: Callable[[bytes, bytes], bytes], opcode: Opcode
) -> None:
    payload = bytes(i % 251 for i in range(size))
    reader = StreamReader()
    reader.feed_data(build(payload, b"\x01\x02\x03\x04"))
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=True)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame = done.value.value
    assert (frame.opcode, frame.fin, frame.data) == (opcode, True, payload)
    head = 2 if size < 126 else 4 if size < 65536 else 10
    assert len(build(payload, b"\0\0\0\0")) == head + 4 + size
