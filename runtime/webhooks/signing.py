"""How voxflow signs a webhook request (the sender's half of ``verify.py``).

The signature is HMAC-SHA256, keyed by the endpoint's secret, over ``<t>.<body>``: the Unix
time of sending, a dot, and the exact body bytes. It travels as
``Voxflow-Signature: t=<unix>,v1=<hex>``. Signing the time with the body lets a receiver
refuse a captured request replayed later; the scheme is the one Stripe documents for its
webhooks (https://docs.stripe.com/webhooks#verify-manually).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Voxflow-Signature"
EVENT_ID_HEADER = "Voxflow-Event-Id"
EVENT_TYPE_HEADER = "Voxflow-Event-Type"
SCHEME = "v1"


def digest(body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    """The ``Voxflow-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    return f"t={timestamp},{SCHEME}={digest(body, secret, timestamp)}"
