"""Which voice providers a studio call may use, built as the worker builds them.

The factory is the worker's own (``runtime.providers.factory.voice_providers``, which the
``converse`` activity uses), so a browser test call reaches OpenAI Realtime or Ultravox with
the same adapters, settings and audio format as a campaign call; the studio only supplies the
settings (no database: a test call has no circuit breaker).
"""

from __future__ import annotations

from collections.abc import Callable

from runtime.engine import Engine
from runtime.providers.base import VoiceProvider
from runtime.providers.factory import voice_providers
from runtime.providers.fallback import provider_order
from runtime.settings import Settings

LOCAL = "local"


def available(settings: Settings) -> list[str]:
    """Providers the settings make usable, the deployment's default first.

    ``local`` is always there; ``openai`` when ``OPENAI_API_KEY`` is set; ``ultravox`` when
    ``ULTRAVOX_API_KEY`` is set.
    """
    names = []
    if settings.openai_api_key is not None:
        names.append("openai")
    if settings.ultravox_api_key is not None:
        names.append("ultravox")
    return [*names, LOCAL]


def chain_names(chosen: str, fallback: tuple[str, ...] | list[str]) -> list[str]:
    """The providers the call tries: the chosen one, then the flow's declared fallbacks."""
    return provider_order(chosen, list(fallback))


def factory(settings: Settings) -> Callable[[Engine], Callable[[str], VoiceProvider]]:
    """For one call's engine, the factory of providers by name (unconfigured ones raise
    ``ProviderUnavailable``, which the chain records and skips)."""
    return lambda engine: voice_providers(settings, engine)
