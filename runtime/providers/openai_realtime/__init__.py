"""OpenAI Realtime provider: GA WebSocket protocol through the official ``openai`` SDK."""

from runtime.providers.openai_realtime.adapter import OpenAIRealtimeProvider
from runtime.providers.openai_realtime.session import (
    AudioFormat,
    initial_session,
    node_session,
    verbatim_response,
)

__all__ = [
    "AudioFormat",
    "OpenAIRealtimeProvider",
    "initial_session",
    "node_session",
    "verbatim_response",
]
