"""The provider interface: what the call bridge needs from a realtime voice provider.

A provider adapter (OpenAI Realtime, Ultravox, the local voice provider) turns the engine's
commands into its protocol and its protocol into :data:`ProviderEvent` values. The bridge
(``runtime.call``) owns the media session, the engine and the tools; the adapter owns only the
provider connection. Audio always travels as :class:`~telephony.audio.AudioFrame`, so every
stage knows its sample rate.

Barge-in is an event, not a flag: the adapter reports :class:`CallerSpeechStarted`; the bridge
drops the caller's playout queue at once and answers with :meth:`VoiceProvider.interrupted`,
naming the agent item that was cut and how many of its milliseconds were really played.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from dsl.ir import ProviderSettings
from runtime.engine.events import UpdateSession
from telephony.audio.frames import AudioFrame

# --- events out of a provider ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentAudio:
    """Agent speech to play to the caller; ``item_id`` groups the audio of one utterance.

    On interruption every not-yet-played frame is dropped by the bridge.
    """

    frame: AudioFrame
    item_id: str


@dataclass(frozen=True, slots=True)
class AgentAudioDone:
    """The provider sent all the audio of ``item_id``."""

    item_id: str


@dataclass(frozen=True, slots=True)
class AgentTranscript:
    """What the agent said in ``item_id`` (final text; cut short when interrupted)."""

    text: str
    item_id: str
    verbatim: bool = False
    """True when this was a ``say`` the engine asked for, not the model's own reply."""
    interrupted: bool = False
    """The caller cut this turn: ``text`` is what was played before the cut (empty for a
    ``say`` that was queued behind the cut turn and dropped unspoken)."""


@dataclass(frozen=True, slots=True)
class CallerSpeechStarted:
    """The caller started speaking: barge-in if the agent is talking."""


@dataclass(frozen=True, slots=True)
class CallerTranscript:
    text: str
    final: bool = True


@dataclass(frozen=True, slots=True)
class TranscriptionFailed:
    """The caller said something the provider could not transcribe (their words are lost)."""

    reason: str


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """The model called a function tool; answer with :meth:`VoiceProvider.function_result`."""

    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResponseDone:
    """A model turn finished (``completed``, ``cancelled``, ``failed``, ``incomplete``)."""

    status: str


@dataclass(frozen=True, slots=True)
class ProviderEnded:
    """The provider ended the call on its side (e.g. the agent hung up)."""

    reason: str


@dataclass(frozen=True, slots=True)
class ProviderError:
    """A provider failure. ``fatal`` errors end the provider session (fallback or apology)."""

    reason: str
    fatal: bool = True
    code: str = ""
    """The provider's own error code (OpenAI's ``error.code``, a WebSocket close code), or
    what failed (``connection``, ``response_failed``); a metric label, so never free text."""


ProviderEvent = (
    AgentAudio
    | AgentAudioDone
    | AgentTranscript
    | CallerSpeechStarted
    | CallerTranscript
    | TranscriptionFailed
    | FunctionCall
    | ResponseDone
    | ProviderEnded
    | ProviderError
)


# --- what a call tells its provider --------------------------------------------------------------


@dataclass(frozen=True)
class CallSetup:
    """Everything a provider needs to open a session for one call."""

    call_id: str
    settings: ProviderSettings = field(default_factory=ProviderSettings)
    first: UpdateSession | None = None
    """The start node's session (instructions and tools), when known before connecting."""
    wire_rate: int = 8000
    """Sample rate of the caller's audio as the media session delivers it."""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Usage:
    """Provider usage of one call; ``cost_usd`` is an estimate from list prices."""

    provider: str
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    input_audio_tokens: int = 0
    output_audio_tokens: int = 0
    cached_tokens: int = 0
    responses: int = 0
    audio_in_ms: int = 0
    audio_out_ms: int = 0
    dropped_audio_ms: int = 0
    """Agent audio of cancelled turns dropped before it reached the caller."""
    errors: int = 0
    """Error events from the provider (fatal or not)."""
    rate_limits: dict[str, int] = field(default_factory=dict)
    """The provider's last reported remaining budget per limit (``requests``, ``tokens``)."""
    cost_usd: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.__dict__.items()}


class ProviderUnavailable(Exception):
    """The provider could not open a session (refused, unreachable, breaker open)."""

    def __init__(self, provider: str, reason: str) -> None:
        self.provider = provider
        self.reason = reason
        super().__init__(f"{provider}: {reason}")


class VoiceProvider(Protocol):
    """A realtime voice provider as the call bridge drives it.

    Lifecycle: :meth:`start` (raises :class:`ProviderUnavailable` when no session can be
    opened), then any of the methods below while :meth:`events` yields, then :meth:`close`.
    Methods never raise on a dropped connection: the failure arrives as a fatal
    :class:`ProviderError` event instead, so the bridge has one place to handle it.
    """

    name: str
    input_rate: int
    """Sample rate the provider wants caller audio at (the bridge resamples, not the adapter).

    Optional, not part of the protocol's required surface: ``input_chunk_ms``, the caller
    audio a provider gathers per message (the OpenAI adapter's 40 ms appends); the bridge then
    hands audio over a chunk at a time. Without it, frame by frame (20 ms).
    """

    async def start(self, setup: CallSetup) -> None: ...

    def events(self) -> AsyncIterator[ProviderEvent]: ...

    async def send_audio(self, frame: AudioFrame) -> None:
        """Caller audio at :attr:`input_rate`, in arrival order."""
        ...

    async def update_session(self, update: UpdateSession) -> None:
        """A node was entered without a function call (start node, ``when``, DTMF, silence)."""
        ...

    async def say(self, text: str) -> None:
        """Speak ``text`` verbatim, after whatever is already being spoken."""
        ...

    async def respond(self) -> None:
        """Let the model take a turn for the current task now."""
        ...

    async def function_result(
        self, call_id: str, output: Any, *, update: UpdateSession | None = None
    ) -> None:
        """Answer the function call ``call_id``.

        ``update`` is the session of the node the call moved to, when it was a transition:
        the adapter applies it the way its protocol does (OpenAI: ``session.update`` before the
        output; Ultravox: a ``new-stage`` client tool result).
        """
        ...

    async def interrupted(self, item_id: str | None, played_ms: int) -> None:
        """The caller barged in; ``played_ms`` of ``item_id`` were actually played."""
        ...

    async def flush(self) -> None:
        """The engine's commands for one event are all carried out (adapters that hold a
        tool result until they know what follows release it now)."""
        ...

    async def hangup(self, farewell: str | None = None) -> None:
        """End the provider side of the call (idempotent)."""
        ...

    @property
    def usage(self) -> Usage: ...
