"""The call bridge: one live call, media session ↔ provider ↔ engine ↔ tools."""

from runtime.call.bridge import CallBridge, simspeech_voice
from runtime.call.result import CallResult, Interruption

__all__ = ["CallBridge", "CallResult", "Interruption", "simspeech_voice"]
