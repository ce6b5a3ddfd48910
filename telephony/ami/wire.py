"""AMI text framing shared by the simulated PBX: ``Key: Value`` lines, blank-line terminated.

Parsed messages are panoramisk ``Message`` objects (case-insensitive keys, repeated keys as
lists), the same type the client sees. panoramisk's own ``Message.from_line`` only accepts
events and responses, so actions are split into headers here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from panoramisk.message import Message

EOL = "\r\n"
TERMINATOR = b"\r\n\r\n"


def format_message(fields: Mapping[str, object] | Iterable[tuple[str, object]]) -> bytes:
    """Serialise one AMI message; list values become repeated headers."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    lines: list[str] = []
    for key, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            text = str(v)
            if "\r" in text or "\n" in text:
                raise ValueError(f"AMI header {key!r} must not contain a line break")
            lines.append(f"{key}: {text}")
    return (EOL.join(lines) + EOL + EOL).encode("utf-8")


def parse_message(block: bytes) -> Message | None:
    """Parse one message block (with or without its terminating blank line)."""
    headers: dict[str, object] = {}
    for line in block.decode("utf-8", errors="replace").split("\n"):
        key, sep, value = line.rstrip("\r").partition(":")
        if not sep or not key.strip():
            continue
        key, value = key.strip(), value.strip()
        previous = headers.get(key)
        if previous is None:
            headers[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            headers[key] = [previous, value]
    return Message(headers) if headers else None
