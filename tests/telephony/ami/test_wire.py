import pytest

from telephony.ami.wire import format_message, parse_message


def test_format_repeats_list_headers_and_ends_with_a_blank_line():
    raw = format_message({"Action": "Originate", "Variable": ["A=1", "B=2"]})
    assert raw == b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"


def test_parse_is_case_insensitive_and_collects_repeated_keys():
    message = parse_message(
        b"action: Originate\r\nVariable: A=1\r\nVariable: B=x:y\r\nChannelId: abc\r\n\r\n"
    )
    assert message["Action"] == "Originate"
    assert message["variable"] == ["A=1", "B=x:y"]
    assert message.action_id is None
    assert parse_message(b"\r\n\r\n") is None


def test_header_values_cannot_inject_lines():
    with pytest.raises(ValueError, match="line break"):
        format_message({"Action": "Ping\r\nAction: Hangup"})
