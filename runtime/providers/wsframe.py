"""The one WebSocket frame a provider socket writes per message: a client's masked text or
binary frame (RFC 6455 §5.2 base framing, §5.3 client-to-server masking).

Pure bytes in, bytes out. ``runtime/providers/realtime_socket.py`` writes these directly
instead of going through ``ClientProtocol.send_text``/``send_binary``, whose
``Frame.serialize`` (a BytesIO, struct packing, ``secrets.token_bytes``) and ``data_to_send``
bookkeeping were most of a send's CPU; every other frame (pings, pongs, close) is still the
protocol's.
"""

from __future__ import annotations

import struct

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C extension
    from websockets.utils import apply_mask

_FIN_TEXT = 0x81
"""FIN set, opcode 0x1 (text)."""
_FIN_BINARY = 0x82
"""FIN set, opcode 0x2 (binary)."""
_MASKED = 0x80
_HEAD_16 = struct.Struct("!BBH")
_HEAD_64 = struct.Struct("!BBQ")


def masked_text_frame(payload: bytes, mask: bytes) -> bytes:
    """One unfragmented text frame carrying ``payload`` (UTF-8), masked with ``mask``.

    Args:
        payload: the message's UTF-8 bytes.
        mask: 4 bytes, fresh and unpredictable for every frame (RFC 6455 §5.3:
            ``os.urandom(4)``).
    """
    return _frame(_FIN_TEXT, payload, mask)


def masked_binary_frame(payload: bytes, mask: bytes) -> bytes:
    """One unfragmented binary frame carrying ``payload``, masked with ``mask`` (4 fresh,
    unpredictable bytes, as for :func:`masked_text_frame`)."""
    return _frame(_FIN_BINARY, payload, mask)


def _frame(first: int, payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((first, _MASKED | n))
    elif n < 65536:
        head = _HEAD_16.pack(first, _MASKED | 126, n)
    else:
        head = _HEAD_64.pack(first, _MASKED | 127, n)
    return head + mask + apply_mask(payload, mask)
