"""The masked text frame, byte for byte: RFC 6455's own example, and every length encoding
read back by websockets' frame parser as a server would."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from runtime.providers.wsframe import masked_text_frame


def test_rfc_6455_masked_hello_example() -> None:
    # RFC 6455 §5.7: "A single-frame masked text message" with mask 37 fa 21 3d.
    frame = masked_text_frame(b"Hello", bytes.fromhex("37fa213d"))
    assert frame == bytes.fromhex("818537fa213d7f9f4d5158")


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_each_length_encoding_parses_back_as_one_masked_text_frame(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    reader = StreamReader()
    reader.feed_data(masked_text_frame(payload, b"\x01\x02\x03\x04"))
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=True)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame = done.value.value
    assert (frame.opcode, frame.fin, frame.data) == (Opcode.TEXT, True, payload)
    head = 2 if size < 126 else 4 if size < 65536 else 10
    assert len(masked_text_frame(payload, b"\0\0\0\0")) == head + 4 + size
