"""Pure translation of a flow node into an OpenAI Realtime GA ``session.update`` payload.

``session.type`` is required; audio settings live under ``audio.input`` / ``audio.output``
(``docs/protocols.md``). Turn detection keeps ``create_response`` (the model answers by itself when
the caller stops) but sets ``interrupt_response`` to false: on barge-in the bridge flushes the
caller's playout, cancels the response and truncates the item with what was really heard, so
the server must not race it with its own cancellation.
"""

from __future__ import annotations

from typing import Any, Literal

from dsl.ir import ProviderSettings, TurnDetection
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


def turn_detection(turn: TurnDetection) -> dict[str, Any]:
    """A turn detection as the GA ``audio.input.turn_detection`` object.

    ``session.update`` replaces this object whole (it is not merged field by field), so it is
    always sent complete: a field left out would fall back to the service's default.
    """
    if turn.mode == "semantic_vad":
        return {"type": "semantic_vad", "eagerness": turn.eagerness or "auto",
                "create_response": True, "interrupt_response": False}  # fmt: skip
    vad: dict[str, Any] = {
        "type": "server_vad",
        "create_response": True,
        "interrupt_response": False,
    }
    if turn.vad_threshold is not None:
        vad["threshold"] = turn.vad_threshold
    if turn.silence_ms is not None:
        vad["silence_duration_ms"] = turn.silence_ms
    if turn.prefix_padding_ms is not None:
        vad["prefix_padding_ms"] = turn.prefix_padding_ms
    return vad


def initial_session(
    settings: ProviderSettings,
    audio_format: AudioFormat,
    model: str,
    turn: TurnDetection | None = None,
) -> dict[str, Any]:
    """The call-wide part of the session: model, audio formats, voice, transcription, VAD
    (``turn``: the start node's turn detection; the agent's when ``None``)."""
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
                "turn_detection": turn_detection(turn or settings.turn),
            },
            "output": {"format": dict(fmt), "voice": settings.voice_for("openai") or DEFAULT_VOICE},
        },
    }


def node_session(update: UpdateSession, turn: TurnDetection | None = None) -> dict[str, Any]:
    """The per-node part: instructions and function tools (transitions, tools, globals), and
    the node's turn detection when it differs from ``turn``, the one the session has.

    ``audio`` and ``audio.input`` are merged field by field by ``session.update``, so sending
    only ``audio.input.turn_detection`` leaves the formats, transcription and voice as they are.
    """
    session: dict[str, Any] = {
        "type": "realtime",
        "instructions": update.instructions,
        "tools": [tool.openai() for tool in update.tools],
        "tool_choice": "auto",
    }
    if update.turn is not None and update.turn != turn:
        session["audio"] = {"input": {"turn_detection": turn_detection(update.turn)}}
    return session


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
