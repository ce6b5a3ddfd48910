"""Voice providers by name, built from the one settings object: the worker's converse activity
and the studio's browser calls use the same adapters, keys, base URLs and audio format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runtime.providers.base import ProviderUnavailable, VoiceProvider


def voice_providers(
    settings: Any, engine: Any, *, openai_audio_format: str = "pcmu"
) -> Callable[[str], VoiceProvider]:
    """For one call's engine: ``make(name)`` builds ``openai``, ``ultravox`` or ``local``.

    A provider whose key is not set, or an unknown name, raises ``ProviderUnavailable``
    (the provider chain records it and tries the next one).
    """
    from runtime.providers.local_voice import LocalVoiceProvider, engine_request
    from runtime.providers.openai_realtime import OpenAIRealtimeProvider
    from runtime.providers.ultravox import UltravoxProvider

    def make(name: str) -> Any:
        if name == "openai":
            if settings.openai_api_key is None:
                raise ProviderUnavailable(name, "OPENAI_API_KEY is not set")
            return OpenAIRealtimeProvider(
                api_key=settings.openai_api_key.get_secret_value(),
                base_url=settings.openai_base_url,
                model=settings.openai_realtime_model,
                audio_format=openai_audio_format,  # type: ignore[arg-type]
            )
        if name == "ultravox":
            if settings.ultravox_api_key is None:
                raise ProviderUnavailable(name, "ULTRAVOX_API_KEY is not set")
            return UltravoxProvider(
                api_key=settings.ultravox_api_key.get_secret_value(),
                base_url=settings.ultravox_base_url,
            )
        if name == "local":
            return LocalVoiceProvider(engine_request(engine))
        raise ProviderUnavailable(name, "unknown provider (use openai, ultravox or local)")

    return make
