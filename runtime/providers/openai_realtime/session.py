"""Pure translation of a flow node into an OpenAI Realtime GA ``session.update`` payload.

``session.type`` is required; audio settings live under ``audio.input`` / ``audio.output``
(``docs/protocols.md``). Turn detection keeps ``create_response`` (the model answers by itself when
the caller stops) but sets ``interrupt_response`` to false: on barge-in the bridge flushes the
caller's playout, cancels the response and truncates the item with what was really heard, so
the server must not race it with its own cancellation.
"""

from __future__ import annotations

from typing import Any, Literal

from dsl.ir import ProviderSettings
from runtime.engine.events import UpdateSession

AudioFormat = Literal["pcmu", "pcm24k"]

FORMATS: dict[str, dict[str, Any]] = {
    "pcmu": {"type": "audio/pcmu"},
    "pcm24k": {"type": "audio/pcm", "rate": 24000},
}
FORMAT_RATES: dict[str, int] = {"pcmu": 8000, "pcm24k": 24000}
BYTES_PER_MS: dict[str, int] = {"pcmu": 8, "pcm24k": 48}
DEFAULT_VOICE = "marin"
TRANSCRIBE_MODEL = "gpt-4o-mini-transcribe"


def turn_detection(settings: ProviderSettings) -> dict[str, Any] | None:
    """The flow's turn detection as the GA ``audio.input.turn_detection`` object."""
    if settings.turn_detection == "none":
        return None
    if settings.turn_detection == "semantic_vad":
        return {"type": "semantic_vad", "eagerness": settings.eagerness or "auto",
                "create_response": True, "interrupt_response": False}  # fmt: skip
    vad: dict[str, Any] = {
        "type": "server_vad",
        "create_response": True,
        "interrupt_response": False,
    }
    if settings.vad_threshold is not None:
        vad["threshold"] = settings.vad_threshold
    if settings.silence_duration_ms is not None:
        vad["silence_duration_ms"] = settings.silence_duration_ms
    return vad


def initial_session(
    settings: ProviderSettings, audio_format: AudioFormat, model: str
) -> dict[str, Any]:
    """The call-wide part of the session: model, audio formats, voice, transcription, VAD."""
    language = settings.language.split("-")[0].lower()
    fmt = FORMATS[audio_format]
    return {
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": dict(fmt),
                "transcription": {"model": TRANSCRIBE_MODEL, "language": language},
                "turn_detection": turn_detection(settings),
            },
            "output": {"format": dict(fmt), "voice": settings.voice_for("openai") or DEFAULT_VOICE},
        },
    }


def node_session(update: UpdateSession) -> dict[str, Any]:
    """The per-node part: instructions and function tools (transitions, tools, globals)."""
    return {
        "type": "realtime",
        "instructions": update.instructions,
        "tools": [tool.openai() for tool in update.tools],
        "tool_choice": "auto",
    }


def verbatim_response(text: str) -> dict[str, Any]:
    """``response.create`` payload that speaks ``text`` word for word.

    The documented way to make the model produce audio for given text is a response with
    per-response ``instructions`` (they replace the session's instructions for this response
    only) and no tools, so the model cannot take a transition in the middle of a ``say``.
    """
    return {
        "instructions": (
            "Say exactly the following text, word for word, in the session's voice and "
            "language. Do not add, omit or change anything:\n" + text
        ),
        "tool_choice": "none",
        "metadata": {"voxflow": "say"},
    }
