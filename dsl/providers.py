"""What the compiler knows of the AI providers a flow may run on: their names and, where the
provider documents a fixed list, their voices.

OpenAI Realtime's voices are the ``audio.output.voice`` values of its GA session (the official
``openai`` SDK's ``RealtimeAudioConfigOutput.voice``; see ``docs/protocols.md``). Ultravox has
no fixed list: an account's voices come from its ``/api/voices`` endpoint, so they are not
checked here.
"""

from __future__ import annotations

PROVIDER_NAMES = ("openai", "ultravox", "local")
"""The providers a flow may name; what each is and needs is in ``runtime/providers/registry.py``."""
VOICED = ("openai", "ultravox")
"""Providers that take a voice name (the local provider has no voice of its own)."""
OPENAI_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
)
EAGERNESS = ("low", "medium", "high", "auto")
"""Semantic VAD's ``eagerness`` values (``auto`` is ``medium``)."""
