"""The receiver's check of a voxflow webhook: is it from voxflow, unaltered, and recent?

Usage in a receiver (any framework; the body must be the raw bytes received)::

    from runtime.webhooks.verify import SignatureError, verify

    try:
        verify(raw_body, request.headers["Voxflow-Signature"], secret)
    except SignatureError as exc:
        return 400, exc.code

Then deduplicate on ``Voxflow-Event-Id``: delivery is at least once.
"""

from __future__ import annotations

import hmac
import time

from runtime.webhooks.signing import SCHEME, digest


class SignatureError(ValueError):
    """A request that must be refused; ``code`` says why (``malformed``, ``mismatch``,
    ``expired``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def verify(
    body: bytes, header: str, secret: str, tolerance_s: float = 300, *, now: float | None = None
) -> int:
    """Check ``header`` (``t=<unix>,v1=<hex>``) against ``body`` and ``secret``.

    Args:
        body: the request body exactly as received.
        header: the ``Voxflow-Signature`` header.
        secret: the endpoint's secret, as shown when the endpoint was created.
        tolerance_s: how far the signed time may be from ``now``, either way.
        now: the receiver's clock (Unix seconds); default ``time.time()``.

    Returns:
        The signed timestamp.

    Raises:
        SignatureError: the header is malformed, no ``v1`` signature matches, or the signed
            time is outside the tolerance (a replay, or a clock far off).
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed", f"expected 't=<unix>,{SCHEME}=<hex>', got {header!r}")
    expected = digest(body, secret, timestamp)
    # Compare every candidate in constant time: a secret being rotated may sign twice.
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise SignatureError("mismatch", "no signature matches the body and secret")
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance_s:
        raise SignatureError(
            "expired", f"signed {clock - timestamp:.0f}s from now; tolerance {tolerance_s:g}s"
        )
    return timestamp
