"""The session side of the OpenAI Realtime stand-in: the service's defaults and how
``session.update`` changes them (see ``docs/protocols.md``)."""

from __future__ import annotations

import copy
from typing import Any

BETA_FIELDS = frozenset(
    {"modalities", "voice", "input_audio_format", "output_audio_format", "turn_detection",
     "input_audio_transcription", "temperature", "max_response_output_tokens"}
)  # fmt: skip
MERGED = frozenset({("audio",), ("audio", "input"), ("audio", "output")})
"""The session objects ``session.update`` merges field by field; any other object is replaced."""


def default_session(model: str) -> dict[str, Any]:
    return {
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "alloy",
                "speed": 1.0,
            },
        },
    }


def merge(base: dict[str, Any], update: dict[str, Any], path: tuple[str, ...] = ()) -> None:
    for key, value in update.items():
        here = (*path, key)
        if here in MERGED and isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value, here)
        else:
            base[key] = copy.deepcopy(value)


def bytes_per_ms(fmt: dict[str, Any]) -> int:
    return 48 if fmt.get("type") == "audio/pcm" else 8
