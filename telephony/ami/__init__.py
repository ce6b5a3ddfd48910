"""Asterisk Manager Interface: a supervised panoramisk client and the Asterisk gateway."""

from telephony.ami.client import (
    AmiClient,
    AmiConnectionLost,
    AmiError,
    AmiNotConnected,
    AmiSettings,
)
from telephony.ami.gateway import (
    INBOUND_CONTEXT,
    OUTBOUND_CONTEXT,
    TRANSFER_CONTEXT,
    VAR_AMD,
    VAR_ATTEMPT,
    VAR_AUDIOSOCKET,
    AsteriskGateway,
    InboundChannel,
)

__all__ = [
    "INBOUND_CONTEXT",
    "OUTBOUND_CONTEXT",
    "TRANSFER_CONTEXT",
    "VAR_AMD",
    "VAR_ATTEMPT",
    "VAR_AUDIOSOCKET",
    "AmiClient",
    "AmiConnectionLost",
    "AmiError",
    "AmiNotConnected",
    "AmiSettings",
    "AsteriskGateway",
    "InboundChannel",
]
