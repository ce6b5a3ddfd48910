"""The providers voxflow knows, and the one place they are built from the settings object.

Every entry point that offers or builds a provider goes through here: the ``converse``
activity and the studio's browser voice call (voice providers for the call bridge), and
``voxflow chat`` and the studio's test chat (text providers for the text session). The names
themselves are the flow language's (``dsl.providers.PROVIDER_NAMES``), since a flow names its
fallbacks.

| name       | needs              | voice call | text chat | voices                          |
| ---------- | ------------------ | ---------- | --------- | ------------------------------- |
| `openai`   | `OPENAI_API_KEY`   | yes        | yes       | the Realtime API's fixed list   |
| `ultravox` | `ULTRAVOX_API_KEY` | yes        | no        | the account's (no fixed list)   |
| `local`    | nothing            | yes        | yes       | simulated speech only           |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dsl.providers import OPENAI_VOICES, PROVIDER_NAMES
from runtime.engine import Engine
from runtime.engine.turn import TextProvider
from runtime.providers.base import ProviderUnavailable, VoiceProvider
from runtime.providers.fallback import provider_order
from runtime.providers.openai_realtime.session import AudioFormat
from runtime.settings import Settings

OPENAI, ULTRAVOX, LOCAL = PROVIDER_NAMES


@dataclass(frozen=True)
class ProviderInfo:
    """What one provider is and what it needs."""

    name: str
    label: str
    key_setting: str | None
    """The ``Settings`` field holding its API key; ``None``: it needs none."""
    voice: bool
    """It can carry a live call (speech to speech)."""
    text: bool
    """It can play the model's side of a text chat."""
    voices: tuple[str, ...] = ()
    """Its documented voice names, where it publishes a fixed list."""


PROVIDERS: dict[str, ProviderInfo] = {
    OPENAI: ProviderInfo(
        OPENAI,
        "OpenAI Realtime",
        "openai_api_key",
        voice=True,
        text=True,
        voices=tuple(sorted(OPENAI_VOICES)),
    ),
    ULTRAVOX: ProviderInfo(ULTRAVOX, "Ultravox", "ultravox_api_key", voice=True, text=False),
    LOCAL: ProviderInfo(LOCAL, "local (offline rules)", None, voice=True, text=True),
}
assert tuple(PROVIDERS) == PROVIDER_NAMES

VoiceFactory = Callable[[str], VoiceProvider]
"""Builds one call's unstarted voice provider by name (raises ``ProviderUnavailable``)."""


class Providers:
    """The deployment's providers, built from its settings.

    Args:
        settings: the one settings object (keys, base URLs, models).
        openai_audio_format: the audio format OpenAI Realtime sessions use (``pcmu`` on a
            phone line: no resampling).
        openai_connect_timeout: seconds an OpenAI Realtime session may take to open
            (WebSocket handshake and ``session.created``).
        openai_append_ms: caller audio per ``input_audio_buffer.append`` (the adapter's
            ``append_ms``): more per message costs less CPU per call and adds latency;
            ``None``: the settings' ``VOXFLOW_OPENAI_APPEND_MS``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        openai_audio_format: AudioFormat = "pcmu",
        openai_connect_timeout: float = 10.0,
        openai_append_ms: int | None = None,
    ) -> None:
        self.settings = settings
        self.openai_append_ms = (
            settings.openai_append_ms if openai_append_ms is None else openai_append_ms
        )
        self.openai_audio_format: AudioFormat = openai_audio_format
        self.openai_connect_timeout = openai_connect_timeout
        self._openai_client: Any = None
        """One ``AsyncOpenAI`` for every realtime call of this registry (built on first use)."""

    def configured(self, name: str) -> bool:
        info = PROVIDERS.get(name)
        if info is None:
            return False
        return info.key_setting is None or getattr(self.settings, info.key_setting) is not None

    def available(self, *, voice: bool = True) -> list[str]:
        """The providers the settings make usable for a voice call (or, with
        ``voice=False``, a text chat): the deployment's default first, ``local`` last."""
        return [
            name
            for name, info in PROVIDERS.items()
            if (info.voice if voice else info.text) and self.configured(name)
        ]

    def default(self) -> str:
        """The provider a call uses unless told otherwise: OpenAI when its key is set, else
        Ultravox when its key is set, else local."""
        return self.available()[0]

    def chain(self, chosen: str | None, fallback: Sequence[str]) -> list[str]:
        """The providers a call tries, in order: ``chosen`` (the default when ``None``), then
        the flow's declared fallbacks."""
        return provider_order(chosen or self.default(), list(fallback))

    def voice_factory(self, engine: Engine) -> VoiceFactory:
        """For one call's engine, the factory of its voice providers by name."""
        return lambda name: self.voice(name, engine)

    def voice(self, name: str, engine: Engine) -> VoiceProvider:
        """An unstarted voice provider for the call of ``engine``.

        Raises:
            ProviderUnavailable: unknown name, or its key is not set.
        """
        self._check(name)
        s = self.settings
        if name == OPENAI:
            from runtime.providers.openai_realtime import OpenAIRealtimeProvider

            assert s.openai_api_key is not None
            if self._openai_client is None:
                from runtime.providers.openai_realtime.adapter import realtime_client

                self._openai_client = realtime_client(
                    s.openai_api_key.get_secret_value(), s.openai_base_url
                )
            return OpenAIRealtimeProvider(
                append_ms=self.openai_append_ms,
                api_key=s.openai_api_key.get_secret_value(),
                base_url=s.openai_base_url,
                model=s.openai_realtime_model,
                audio_format=self.openai_audio_format,
                connect_timeout=self.openai_connect_timeout,
                client=self._openai_client,
            )
        if name == ULTRAVOX:
            from runtime.providers.ultravox import UltravoxProvider

            assert s.ultravox_api_key is not None
            return UltravoxProvider(
                api_key=s.ultravox_api_key.get_secret_value(), base_url=s.ultravox_base_url
            )
        from runtime.providers.local_voice import LocalVoiceProvider

        return LocalVoiceProvider.for_engine(engine)

    def text(self, name: str) -> TextProvider:
        """A text provider (``voxflow chat``, the studio's test chat).

        Raises:
            ProviderUnavailable: unknown name, no text mode, or its key is not set.
        """
        self._check(name)
        if not PROVIDERS[name].text:
            raise ProviderUnavailable(name, "has no text mode (use openai or local)")
        if name == OPENAI:
            from runtime.providers.openai_text import OpenAITextProvider

            key = self.settings.openai_api_key
            assert key is not None
            return OpenAITextProvider(
                api_key=key.get_secret_value(), base_url=self.settings.openai_base_url
            )
        from runtime.providers.local import LocalProvider

        return LocalProvider()

    def _check(self, name: str) -> None:
        info = PROVIDERS.get(name)
        if info is None:
            raise ProviderUnavailable(name, f"unknown provider (use {', '.join(PROVIDER_NAMES)})")
        if not self.configured(name):
            assert info.key_setting is not None
            from runtime.settings import env_name

            raise ProviderUnavailable(name, f"{env_name(info.key_setting)} is not set")
